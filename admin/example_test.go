package admin_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libgearman-go/gearman/admin"
)

// This example cancels a queued job by its handle, the way that works with
// libgearman 1.1.20. It needs a gearmand on 127.0.0.1:4730 and is therefore
// only compiled, not run, by go test; TestCancelJob runs the same steps
// against a gearmand started by gearmantest.
func ExampleClient_CancelJob() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	adm, err := admin.Dial(ctx, "127.0.0.1:4730")
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	defer adm.Close()

	// The handle returned when the job was submitted, e.g. by
	// (*gearman.Client).DoBackground.
	handle := "H:myhost:42"

	err = adm.CancelJob(ctx, handle)
	var se *admin.ServerError
	switch {
	case err == nil:
		fmt.Println("cancelled", handle)
	case errors.As(err, &se) && se.Code == admin.CodeUnknownJob:
		fmt.Println("no such job on this server:", handle)
	default:
		fmt.Println("cancel:", err)
	}
}
