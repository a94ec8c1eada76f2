// @twostep/client: a client for twostep's two-step login (password, then a
// one-time code, then a session that refreshes itself). No framework: plain
// fetch, injectable. React bindings are in @twostep/client/react.

export { createTwostepClient, type RequestOptions, type TwostepClient, type TwostepClientOptions } from './client.js';
export {
  browserLocalStorage,
  createTokenStore,
  defaultStorageKey,
  memoryStorage,
  type AccessLifetime,
  type AuthState,
  type EndReason,
  type RestoringState,
  type SessionTokens,
  type SignedInState,
  type SignedOutState,
  type TokenStorage,
  type TokenStore,
  type TokenStoreOptions,
} from './store.js';
export { type Locks } from './refresh.js';
export {
  TwostepError,
  errorMessage,
  fieldErrors,
  formatDuration,
  isTwostepError,
  messageFor,
  toTwostepError,
  type DetailOf,
  type ErrorCode,
  type ErrorDetail,
  type FieldErrors,
  type InputField,
  type RateLimitReason,
  type StepKind,
} from './errors.js';
export { describeDevice } from './device.js';

// The generated types. User, Session, SecurityEvent and Challenge are what
// the client's methods return (the fields src/operations.graphql selects).
export {
  operations,
  type AuthFields,
  type ChallengeFields as Challenge,
  type Operation,
  type ResultOf,
  type SecurityEventFields as SecurityEvent,
  type SecurityEventsResult,
  type SessionFields as Session,
  type UserFields as User,
  type VariablesOf,
} from './generated/operations.js';
export {
  logoutScopeValues,
  otpChannelValues,
  roleValues,
  type ChangePasswordInput,
  type ConfirmPhoneChangeInput,
  type DeleteAccountInput,
  type LoginInput,
  type LogoutScope,
  type OtpChannel,
  type RegisterInput,
  type RequestPasswordResetInput,
  type ResendOtpInput,
  type ResetPasswordInput,
  type RevokeSessionInput,
  type Role,
  type StartPhoneChangeInput,
  type VerifyOtpInput,
} from './generated/schema.js';
/** Schema holds every type of schema.graphqls, as the server has it (Schema.User, Schema.PageInfo, …). */
export type * as Schema from './generated/schema.js';
