package localcloud_test

import (
	"reflect"
	"testing"

	"github.com/pecplatform/pec/infra/localcloud"
)

func TestParseParameterOverrides_SAMSyntax(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string]string
	}{
		{"", map[string]string{}},
		{"  ", map[string]string{}},
		{"InipecSettleSeconds=1 ActivationReminderSeconds=60",
			map[string]string{"InipecSettleSeconds": "1", "ActivationReminderSeconds": "60"}},
		{"ParameterKey=InipecSettleSeconds,ParameterValue=1 ParameterKey=LogLevel,ParameterValue=DEBUG",
			map[string]string{"InipecSettleSeconds": "1", "LogLevel": "DEBUG"}},
		{"ParameterKey=LogLevel,ParameterValue=a=b,c", map[string]string{"LogLevel": "a=b,c"}},
		{`SesFrom="Piattaforma PEC <noreply@x.it>" PecFrom='a b'`,
			map[string]string{"SesFrom": "Piattaforma PEC <noreply@x.it>", "PecFrom": "a b"}},
		{`AlarmEmail="" SmtpUsername=`, map[string]string{"AlarmEmail": "", "SmtpUsername": ""}},
		{`InipecDateLayout=02\ Jan\ 2006`, map[string]string{"InipecDateLayout": "02 Jan 2006"}},
		{`A=x=y`, map[string]string{"A": "x=y"}},
		{"LogLevel=INFO LogLevel=DEBUG", map[string]string{"LogLevel": "DEBUG"}},
		{"\tLogLevel=DEBUG\n", map[string]string{"LogLevel": "DEBUG"}},
	} {
		got, err := localcloud.ParseParameterOverrides(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestParseParameterOverrides_RejectsWhatIsNoPair(t *testing.T) {
	for _, in := range []string{
		"InipecSettleSeconds",              // no value
		"=1",                               // no name
		"Inipec-Settle=1",                  // not a parameter name
		"ParameterKey=LogLevel",            // no ParameterValue
		"ParameterKey=LogLevel,Value=INFO", // misspelt
		`SesFrom="unterminated`,            // open quote
		`LogLevel=DEBUG\`,                  // dangling escape
	} {
		if got, err := localcloud.ParseParameterOverrides(in); err == nil {
			t.Errorf("%q = %v, want an error", in, got)
		}
	}
}
