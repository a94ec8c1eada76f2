package graph

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/internal/httpedge"
)

// errorPresenter is the one place where errors become what clients see.
// Domain errors keep their code and human message; gqlgen's own parse and
// validation errors pass through; anything else is INTERNAL_SERVER_ERROR,
// its detail only in the log.
func errorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		path := graphql.GetPath(ctx)
		var ae *auth.Error
		if errors.As(err, &ae) {
			ext := map[string]any{"code": string(ae.Code)}
			switch ae.Code {
			case auth.CodeBadUserInput, auth.CodeEmailTaken, auth.CodePhoneTaken, auth.CodeInvalidCredentials:
				if ae.Field != "" {
					ext["field"] = ae.Field
				}
			case auth.CodeInvalidOTP:
				ext["field"] = "code"
				ext["attemptsLeft"] = ae.AttemptsLeft
			case auth.CodeRateLimited:
				ext["retryAfter"] = int(math.Ceil(ae.RetryAfter.Seconds()))
				if ae.Reason != "" {
					ext["reason"] = ae.Reason
				}
			case auth.CodeUnavailable:
				log.ErrorContext(ctx, "store unavailable", "err", ae.Err)
			}
			return &gqlerror.Error{Message: ae.Message, Path: path, Extensions: ext}
		}
		var ge *gqlerror.Error
		if errors.As(err, &ge) && (ge.Err == nil || ge.Extensions["code"] != nil) {
			// gqlgen's own error (parse, validation, complexity, a null
			// where the schema forbids one): safe to show as is.
			if ge.Extensions == nil || ge.Extensions["code"] == nil {
				ge.Extensions = map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}
			}
			// SetDisableSuggestion covers only some validation rules;
			// argument, input field, type and enum names are still
			// suggested, which maps the schema for a prober.
			if i := strings.Index(ge.Message, " Did you mean "); i >= 0 {
				ge.Message = ge.Message[:i]
			}
			if ge.Path == nil {
				ge.Path = path
			}
			return ge
		}
		log.ErrorContext(ctx, "internal error", "err", err)
		return &gqlerror.Error{
			Message:    "Internal server error.",
			Path:       path,
			Extensions: map[string]any{"code": string(auth.CodeInternal), "requestId": httpedge.FromContext(ctx).ID},
		}
	}
}

// errPanic is what a recovered panic becomes; the presenter turns it into
// INTERNAL_SERVER_ERROR.
var errPanic = errors.New("graph: panic in resolver")

func recoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic", "panic", p, "stack", string(debug.Stack()))
		return errPanic
	}
}

// reportAll adds every error joined in err (errors.Join) but the last to
// the response and returns the last, so each invalid field gets its own
// GraphQL error, in order.
func reportAll(ctx context.Context, err error) error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return err
	}
	errs := j.Unwrap()
	for _, e := range errs[:len(errs)-1] {
		graphql.AddError(ctx, e)
	}
	return errs[len(errs)-1]
}
