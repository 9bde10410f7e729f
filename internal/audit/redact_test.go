package audit

import "testing"

func TestSensitive(t *testing.T) {
	for name, want := range map[string]bool{
		"token": true, "token_value": true, "client_secret": true, "Password": true, "api_key": true,
		"access_key_id": true, "Authorization": true, "aws_session_token": true,
		// MLflow names params, tags and metrics with a bare "key".
		"key": false, "keys": false, "value": false, "comment": false, "run_id": false,
	} {
		if got := Sensitive(name); got != want {
			t.Errorf("Sensitive(%q) = %v, want %v", name, got, want)
		}
	}
}
