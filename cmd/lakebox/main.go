// Command lakebox is the Lakebox server and command-line client.
package main

import (
	"context"
	"os"

	"github.com/lakebox/lakebox/internal/cli"
)

func main() {
	os.Exit(cli.Run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
