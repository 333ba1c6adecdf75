package wire

import (
	"context"
	"strconv"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/tasks"
)

// Expiry builds ExpiryFunction's handler: the daily reminders and revocations of expiring
// mailboxes (EXPIRY_REMINDER_DAYS, default 90,30,7).
func Expiry(ctx context.Context, getenv func(string) string) (any, error) {
	l, _, err := Lifecycle(ctx, getenv)
	if err != nil {
		return nil, err
	}
	spec := getenv("EXPIRY_REMINDER_DAYS")
	if spec == "" {
		spec = "90,30,7"
	}
	days, err := domain.ParseReminderDays(spec)
	if err != nil {
		return nil, err
	}
	allowAsOf, _ := strconv.ParseBool(getenv("EXPIRY_AS_OF_ALLOWED"))
	return tasks.Expiry(&app.Expiry{Lifecycle: l, ReminderDays: days}, time.Now, allowAsOf), nil
}
