import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { getStylecastApi } from './api';
import { App } from './App';
import { StartupError } from './start/StartupError';
import './styles.css';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

let content;
try {
  content = <App api={getStylecastApi()} />;
} catch (e) {
  content = <StartupError message={(e as Error).message} />;
}

createRoot(container).render(<StrictMode>{content}</StrictMode>);
