package wire

import (
	"context"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// LogOutput is where function logs go: stdout, which Lambda ships to CloudWatch. Tests that
// inspect logs replace it before the functions are built.
var LogOutput io.Writer = os.Stdout

// Logger returns the JSON logger every function uses, in Lambda's field names, with the
// invocation's request id on each record. lambdacontext.NewLogger would choose JSON or text
// from a variable read at process start, which the local host cannot set per function.
func Logger(getenv Getenv) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(getenv("AWS_LAMBDA_LOG_LEVEL")))
	h := slog.NewJSONHandler(LogOutput, &slog.HandlerOptions{Level: level, ReplaceAttr: lambdacontext.ReplaceAttr})
	return slog.New(requestIDHandler{h})
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
