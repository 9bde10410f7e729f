package httpapi

import "github.com/google/uuid"

func newAppID() string { return uuid.NewString() }
