// The engine must not import React: this stub makes such an import a type error.
export {};
