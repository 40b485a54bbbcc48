/** Collects `TranslationWarning`s, one per parameter (the first message wins), in order of first appearance. */
import type { TranslationWarning } from "../../contracts/chat.js";

export class WarningList {
  private readonly byParameter = new Map<string, TranslationWarning>();

  /** Records that `parameter` (the caller's name for it) could not be honoured as given. */
  add(parameter: string, message: string): void {
    if (!this.byParameter.has(parameter)) this.byParameter.set(parameter, { parameter, message });
  }

  toArray(): TranslationWarning[] {
    return [...this.byParameter.values()];
  }
}
