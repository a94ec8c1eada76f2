package gqltest

import "time"

// The operations of the flow, as clients send them.
const (
	RegisterOp = `mutation($email: String!, $password: String!, $phone: String!) {
  register(input: {email: $email, password: $password, phone: $phone}) { user { id email phone phoneVerified createdAt } }
}`
	LoginOp = `mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { mfaToken channel sentTo expiresAt resendAfter }
}`
	VerifyOp = `mutation($mfaToken: String!, $code: String!) {
  verifyOtp(input: {mfaToken: $mfaToken, code: $code}) { accessToken tokenType expiresIn refreshToken refreshExpiresAt user { id email phoneVerified } }
}`
	MeOp      = `{ me { id email phone phoneVerified createdAt } }`
	RefreshOp = `mutation($refreshToken: String!) {
  refreshSession(input: {refreshToken: $refreshToken}) { accessToken tokenType expiresIn refreshToken refreshExpiresAt user { id email phoneVerified } }
}`
	LogoutOp   = `mutation($scope: LogoutScope) { logout(scope: $scope) { revokedSessions } }`
	SessionsOp = `{ sessions { id createdAt lastUsedAt expiresAt userAgent ipAddress current } }`

	ResendOp = `mutation($mfaToken: String!, $channel: OtpChannel) {
  resendOtp(input: {mfaToken: $mfaToken, channel: $channel}) { mfaToken channel sentTo expiresAt resendAfter }
}`
	RequestResetOp  = `mutation($email: String!) { requestPasswordReset(input: {email: $email}) { resetToken expiresAt } }`
	ResetPasswordOp = `mutation($resetToken: String!, $code: String!, $newPassword: String!) {
  resetPassword(input: {resetToken: $resetToken, code: $code, newPassword: $newPassword}) { ok }
}`
	ChangePasswordOp = `mutation($currentPassword: String!, $newPassword: String!) {
  changePassword(input: {currentPassword: $currentPassword, newPassword: $newPassword}) { user { id email } }
}`
	StartPhoneChangeOp = `mutation($newPhone: String!, $password: String!) {
  startPhoneChange(input: {newPhone: $newPhone, password: $password}) { changeToken sentTo expiresAt }
}`
	ConfirmPhoneChangeOp = `mutation($changeToken: String!, $code: String!) {
  confirmPhoneChange(input: {changeToken: $changeToken, code: $code}) { user { id phone phoneVerified } }
}`
	DeleteAccountOp = `mutation($password: String!) { deleteAccount(input: {password: $password}) { ok } }`
)

// RegisterVars, LoginVars and VerifyVars are the variables of the ops above.
func RegisterVars(email, password, phone string) map[string]any {
	return map[string]any{"email": email, "password": password, "phone": phone}
}

// LoginVars: see RegisterVars.
func LoginVars(email, password string) map[string]any {
	return map[string]any{"email": email, "password": password}
}

// VerifyVars: see RegisterVars.
func VerifyVars(mfaToken, code string) map[string]any {
	return map[string]any{"mfaToken": mfaToken, "code": code}
}

// User, Login and Auth are the payloads of the ops above.
type User struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	Phone         string    `json:"phone"`
	PhoneVerified bool      `json:"phoneVerified"`
	CreatedAt     time.Time `json:"createdAt"`
}

// Login is login's payload.
type Login struct {
	MFAToken  string    `json:"mfaToken"`
	Channel   string    `json:"channel"`
	SentTo    string    `json:"sentTo"`
	ExpiresAt time.Time `json:"expiresAt"`
	// ResendAfter is in seconds.
	ResendAfter int `json:"resendAfter"`
}

// Auth is verifyOtp's and refreshSession's payload.
type Auth struct {
	AccessToken      string    `json:"accessToken"`
	TokenType        string    `json:"tokenType"`
	ExpiresIn        int       `json:"expiresIn"`
	RefreshToken     string    `json:"refreshToken"`
	RefreshExpiresAt time.Time `json:"refreshExpiresAt"`
	User             User      `json:"user"`
}
