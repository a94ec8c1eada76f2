// The operations this app sends, typed by hand from ../schema.graphqls.
//
// Four small operations do not pay for a code generator; graphql.test.ts
// validates each one against the schema so a rename there fails a test here.
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

export interface LoginPayload {
  mfaToken: string;
  channel: 'SMS';
  /** Masked, e.g. +1******4567. */
  sentTo: string;
  /** RFC 3339; when the code and the mfaToken stop working. */
  expiresAt: string;
}

export const LOGIN: TypedDocumentNode<
  { login: LoginPayload },
  { input: { email: string; password: string } }
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

export const VERIFY_OTP: TypedDocumentNode<
  { verifyOtp: { accessToken: string; tokenType: string; expiresIn: number; user: User } },
  { input: { mfaToken: string; code: string } }
> = gql`
  mutation VerifyOtp($input: VerifyOtpInput!) {
    verifyOtp(input: $input) {
      accessToken
      tokenType
      expiresIn
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
