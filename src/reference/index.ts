/**
 * Data the project reads but does not own, fetched into the cache by `npm run fetch-reference`:
 * the shared reference folder and the partial CozyStack checkout the real-chart tests use.
 * Nothing on the synth path imports it (it loads execa).
 */
export { CheckoutError, cozystackCheckoutDir, cozystackPin, fetchCozystackCheckout, findCozystackCheckout, type FetchCheckoutOptions } from "./checkout.js";
export { checkReference, fetchReference, ReferenceError, requiredReferenceFiles, type FetchReferenceOptions } from "./fetch.js";
