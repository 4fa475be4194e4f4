import type { InfoResponse } from '../api.js';

/** A page: its element, a refresh that fetches and redraws in place, and cleanup. */
export interface View {
  readonly el: HTMLElement;
  /** Called once the element is in the document, then on every refresh tick. */
  refresh(signal: AbortSignal): Promise<void>;
  dispose(): void;
}

export interface ViewContext {
  info: InfoResponse;
}
