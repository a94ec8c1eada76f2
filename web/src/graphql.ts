// The operations this app sends, typed by hand from ../schema.graphqls.
//
// These small operations do not pay for a code generator;
// graphql.test.ts validates each one against the schema so a rename there
// fails a test here.
import { gql, type TypedDocumentNode } from '@apollo/client';

export interface User {
  id: string;
  email: string;
  phone: string;
  phoneVerified: boolean;
  /** RFC 3339. */
  createdAt: string;
}

export const REGISTER: TypedDocumentNode<
  { register: { user: Pick<User, 'id' | 'email'> } },
  { input: { email: string; password: string; phone: string } }
> = gql`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      user {
        id
        email
      }
    }
  }
`;

/** otpChannels are how a code can be sent: a text message, a voice call reading it out, or WhatsApp. */
export const otpChannels = ['SMS', 'CALL', 'WHATSAPP'] as const;
export type OtpChannel = (typeof otpChannels)[number];

export interface LoginPayload {
  mfaToken: string;
  /** How this code went out. */
  channel: OtpChannel;
  /** Masked, e.g. +1******4567. */
  sentTo: string;
  /** RFC 3339; when the code and the mfaToken stop working. */
  expiresAt: string;
}

export const LOGIN: TypedDocumentNode<
  { login: LoginPayload },
  { input: { email: string; password: string; channel?: OtpChannel } }
> = gql`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      mfaToken
      channel
      sentTo
      expiresAt
    }
  }
`;

/**
 * RESEND_OTP sends a login's code again, the same code, through channel.
 * The login's expiresAt and attempts stay as they were.
 */
export const RESEND_OTP: TypedDocumentNode<
  { resendOtp: LoginPayload },
  { input: { mfaToken: string; channel: OtpChannel } }
> = gql`
  mutation ResendOtp($input: ResendOtpInput!) {
    resendOtp(input: $input) {
      mfaToken
      channel
      sentTo
      expiresAt
    }
  }
`;

/**
 * Tokens are what verifyOtp and refreshSession hand over: a session's access
 * token and its next refresh token.
 */
export interface Tokens {
  accessToken: string;
  /** Seconds. */
  expiresIn: number;
  /** Opaque and single-use. */
  refreshToken: string;
}

export const VERIFY_OTP: TypedDocumentNode<
  { verifyOtp: Tokens & { tokenType: string; user: User } },
  { input: { mfaToken: string; code: string } }
> = gql`
  mutation VerifyOtp($input: VerifyOtpInput!) {
    verifyOtp(input: $input) {
      accessToken
      tokenType
      expiresIn
      refreshToken
      user {
        id
        email
        phone
        phoneVerified
        createdAt
      }
    }
  }
`;

export const REFRESH_SESSION: TypedDocumentNode<
  { refreshSession: Tokens },
  { input: { refreshToken: string } }
> = gql`
  mutation RefreshSession($input: RefreshSessionInput!) {
    refreshSession(input: $input) {
      accessToken
      expiresIn
      refreshToken
    }
  }
`;

export type LogoutScope = 'CURRENT' | 'OTHERS' | 'ALL';

export const LOGOUT: TypedDocumentNode<{ logout: { revokedSessions: number } }, { scope: LogoutScope }> = gql`
  mutation Logout($scope: LogoutScope!) {
    logout(scope: $scope) {
      revokedSessions
    }
  }
`;

export const REVOKE_SESSION: TypedDocumentNode<
  { revokeSession: { revokedSessions: number } },
  { input: { sessionId: string } }
> = gql`
  mutation RevokeSession($input: RevokeSessionInput!) {
    revokeSession(input: $input) {
      revokedSessions
    }
  }
`;

export interface Session {
  id: string;
  /** RFC 3339, like the other times. */
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  userAgent: string | null;
  ipAddress: string | null;
  /** The session of the token that asked. */
  current: boolean;
}

export const SESSIONS: TypedDocumentNode<{ sessions: Session[] }, Record<string, never>> = gql`
  query Sessions {
    sessions {
      id
      createdAt
      lastUsedAt
      expiresAt
      userAgent
      ipAddress
      current
    }
  }
`;

export const ME: TypedDocumentNode<{ me: User }, Record<string, never>> = gql`
  query Me {
    me {
      id
      email
      phone
      phoneVerified
      createdAt
    }
  }
`;

/** PasswordReset is requestPasswordReset's answer, the same for every email. */
export interface PasswordReset {
  /** Opaque and single-use, for resetPassword. */
  resetToken: string;
  /** RFC 3339; when the code and the resetToken stop working. */
  expiresAt: string;
}

export const REQUEST_PASSWORD_RESET: TypedDocumentNode<
  { requestPasswordReset: PasswordReset },
  { input: { email: string } }
> = gql`
  mutation RequestPasswordReset($input: RequestPasswordResetInput!) {
    requestPasswordReset(input: $input) {
      resetToken
      expiresAt
    }
  }
`;

export const RESET_PASSWORD: TypedDocumentNode<
  { resetPassword: { ok: boolean } },
  { input: { resetToken: string; code: string; newPassword: string } }
> = gql`
  mutation ResetPassword($input: ResetPasswordInput!) {
    resetPassword(input: $input) {
      ok
    }
  }
`;

export const CHANGE_PASSWORD: TypedDocumentNode<
  { changePassword: { user: User } },
  { input: { currentPassword: string; newPassword: string } }
> = gql`
  mutation ChangePassword($input: ChangePasswordInput!) {
    changePassword(input: $input) {
      user {
        id
        email
        phone
        phoneVerified
        createdAt
      }
    }
  }
`;

/** PhoneChange is startPhoneChange's answer: a code is on its way to the new number. */
export interface PhoneChange {
  /** Opaque and single-use, for confirmPhoneChange. */
  changeToken: string;
  /** The new number, masked. */
  sentTo: string;
  /** RFC 3339. */
  expiresAt: string;
}

export const START_PHONE_CHANGE: TypedDocumentNode<
  { startPhoneChange: PhoneChange },
  { input: { newPhone: string; password: string } }
> = gql`
  mutation StartPhoneChange($input: StartPhoneChangeInput!) {
    startPhoneChange(input: $input) {
      changeToken
      sentTo
      expiresAt
    }
  }
`;

export const CONFIRM_PHONE_CHANGE: TypedDocumentNode<
  { confirmPhoneChange: { user: User } },
  { input: { changeToken: string; code: string } }
> = gql`
  mutation ConfirmPhoneChange($input: ConfirmPhoneChangeInput!) {
    confirmPhoneChange(input: $input) {
      user {
        id
        email
        phone
        phoneVerified
        createdAt
      }
    }
  }
`;

export const DELETE_ACCOUNT: TypedDocumentNode<{ deleteAccount: { ok: boolean } }, { input: { password: string } }> = gql`
  mutation DeleteAccount($input: DeleteAccountInput!) {
    deleteAccount(input: $input) {
      ok
    }
  }
`;

/**
 * anonymousOperations are the operations sent without an access token; every
 * other one needs a session, so the Apollo link refreshes before sending it
 * when needed. graphql.test.ts checks this list against @auth in the schema.
 */
export const anonymousOperations: ReadonlySet<string> = new Set([
  'Register',
  'Login',
  'VerifyOtp',
  'ResendOtp',
  'RefreshSession',
  'RequestPasswordReset',
  'ResetPassword',
]);
