/**
 * NavState is what one page hands the next through React Router's location
 * state. It holds nothing secret: history state is kept by the browser.
 */
export interface NavState {
  /** A sentence to show on arrival, e.g. why the person was sent to sign in. */
  notice?: string;
  /** Prefills the email field. */
  email?: string;
}
