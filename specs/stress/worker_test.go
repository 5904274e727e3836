package stress_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/specs/support"
)

// workerEnv makes the suite binary a worker: "ROLE SEED SECONDS LOG".
const workerEnv = "KBUS_STRESS_WORKER"

// The roles. Requesters and listeners live to the end; repliers are the
// ones killed.
const (
	roleRequester = "requester"
	roleListener  = "listener"
	roleReplier   = "replier"
)

// threads is how many threads (each with its own Ksock) a worker runs.
const threads = 3

// services are the names requests go to; listeners bind the wildcard.
var services = []string{"$.Stress.A", "$.Stress.B", "$.Stress.C", "$.Stress.D.x"}

// logger writes one line a call, unbuffered: a killed process loses no
// line it wrote.
type logger struct {
	mu sync.Mutex
	f  *os.File
}

func (l *logger) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.f, format+"\n", args...)
}

func idString(id kbus.MessageID) string { return fmt.Sprintf("%d:%d", id.Network, id.Serial) }

// runWorker is a worker process; its exit code says whether it could do
// its part (the spec checks the promises from the logs).
func runWorker(spec string) int {
	f := strings.Fields(spec)
	if len(f) != 4 {
		return 2
	}
	seed, _ := strconv.ParseInt(f[1], 10, 64)
	seconds, _ := strconv.Atoi(f[2])
	file, err := os.OpenFile(f[3], os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 2
	}
	log := &logger{f: file}
	end := time.Now().Add(time.Duration(seconds) * time.Second)
	var wg sync.WaitGroup
	failed := make(chan error, threads)
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(seed*100 + int64(t)))
			var err error
			switch f[0] {
			case roleRequester:
				err = requester(r, log, end)
			case roleListener:
				err = listener(log, end, t)
			case roleReplier:
				err = replier(r, log)
			}
			if err != nil {
				failed <- err
			}
		}(t)
	}
	wg.Wait()
	close(failed)
	for err := range failed {
		log.printf("E %v", err)
		return 1
	}
	return 0
}

// requester sends requests (some stateful, to the replier it finds) and
// announcements until the end, logging "A id" for each request KBUS
// accepted and "R id name" for each reply or status, then waits for the
// replies still owed.
func requester(r *rand.Rand, log *logger, end time.Time) error {
	ks, err := kbus.Open(support.Device, kbus.ReadWrite)
	if err != nil {
		return err
	}
	defer ks.Close()
	if _, err := ks.SetMaxMessages(400); err != nil {
		return err
	}
	owed := map[kbus.MessageID]bool{}
	refused := map[string]int{} // what KBUS said to sends it refused
	drain := func(ctx context.Context) error {
		for {
			m, err := ks.Receive(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			if m.IsReply() {
				log.printf("R %s %s", idString(m.InReplyTo), m.Name)
				delete(owed, m.InReplyTo)
			}
		}
	}
	for time.Now().Before(end) {
		name := services[r.Intn(len(services))]
		var m *kbus.Message
		if r.Intn(5) == 0 {
			m = kbus.NewAnnouncement(name, []byte("news"))
		} else {
			m = kbus.NewRequest(name, make([]byte, r.Intn(64)))
			if r.Intn(3) == 0 {
				if id, found, err := ks.FindReplier(name); err == nil && found {
					m.To = id // stateful: only that replier may answer
				}
			}
		}
		id, err := ks.Send(m)
		if err == nil && m.IsRequest() {
			owed[id] = true
			log.printf("A %s", idString(id))
		}
		if err != nil {
			refused[err.Error()]++
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r.Intn(20))*time.Millisecond)
		err = drain(ctx)
		cancel()
		if err != nil {
			return err
		}
	}
	// The repliers are killed at the end: what is owed comes as statuses.
	deadline := time.Now().Add(60 * time.Second)
	for len(owed) > 0 && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := drain(ctx)
		cancel()
		if err != nil {
			return err
		}
	}
	for why, n := range refused {
		log.printf("X %d %s", n, why)
	}
	log.printf("D %d", len(owed))
	return nil
}

// listener logs "L thread id" for every message it sees on the services'
// wildcard, in order, until the end.
func listener(log *logger, end time.Time, t int) error {
	ks, err := kbus.Open(support.Device, kbus.ReadOnly)
	if err != nil {
		return err
	}
	defer ks.Close()
	if _, err := ks.SetMaxMessages(100000); err != nil {
		return err
	}
	if err := ks.BindListener("$.Stress.*"); err != nil {
		return err
	}
	log.printf("B %d", t)
	ctx, cancel := context.WithDeadline(context.Background(), end.Add(5*time.Second))
	defer cancel()
	for {
		m, err := ks.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		log.printf("L %d %s", t, idString(m.ID))
	}
}

// replier binds as replier where it can and answers most requests; some
// it ignores, sometimes it unbinds, closes and starts again. It runs until
// it is killed.
func replier(r *rand.Rand, log *logger) error {
	for {
		ks, err := kbus.Open(support.Device, kbus.ReadWrite)
		if err != nil {
			return err
		}
		for _, name := range services {
			if r.Intn(4) != 0 {
				err := ks.BindReplier(name)
				if err == nil {
					log.printf("B %s", name)
				} else if !errors.Is(err, kbus.ErrReplierExists) {
					return err
				}
			}
		}
		for life := 20 + r.Intn(200); life > 0; life-- {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			m, err := ks.Receive(ctx)
			cancel()
			if err != nil {
				continue
			}
			if !m.WantsUsToReply() {
				continue
			}
			switch n := r.Intn(20); {
			case n == 0: // ignore it: KBUS says so when this Ksock goes
			case n == 1:
				_ = ks.UnbindReplier(m.Name)
			default:
				_, _ = ks.Reply(m, []byte("done"))
			}
		}
		ks.Close()
	}
}
