// The engine must not import Electron: this stub makes such an import a type error.
export {};
