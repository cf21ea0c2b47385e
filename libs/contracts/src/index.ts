export * from './jsonrpc';
export * from './errors';
export * from './methods';
export * from './validator';
export * from './input-guard';
export * from './channels';
export * from './dojo-events';
export * as Models from './generated/models';
export * as ConnectPat from './connect-pat';
