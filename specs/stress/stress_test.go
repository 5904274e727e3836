package stress_test

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The load: processes of each role (each with threads Ksocks).
const (
	requesters = 2
	listeners  = 2
	repliers   = 3
)

type worker struct {
	role string
	log  string
	cmd  *exec.Cmd
}

func start(role string, seed int64, seconds int, dir string, n int) *worker {
	GinkgoHelper()
	w := &worker{role: role, log: filepath.Join(dir, fmt.Sprintf("%s-%d.log", role, n))}
	w.cmd = exec.Command(os.Args[0])
	w.cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d %s", workerEnv, role, seed, seconds, w.log))
	w.cmd.Stdout, w.cmd.Stderr = GinkgoWriter, GinkgoWriter
	Expect(w.cmd.Start()).To(Succeed())
	return w
}

// lines are a worker log's lines that start with kind, split in fields.
func lines(path, kind string) [][]string {
	GinkgoHelper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil // a worker killed before it wrote anything
	}
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) > 0 && fs[0] == kind {
			out = append(out, fs[1:])
		}
	}
	return out
}

// inSameOrder checks that the ids two listeners both saw came in the same
// order; it returns how many they had in common.
func inSameOrder(a, b []string) int {
	GinkgoHelper()
	pos := map[string]int{}
	for i, id := range a {
		pos[id] = i
	}
	last, common := -1, 0
	for _, id := range b {
		if i, ok := pos[id]; ok {
			Expect(i).To(BeNumerically(">", last), "message %s out of order between two listeners", id)
			last = i
			common++
		}
	}
	return common
}

var ksockLine = regexp.MustCompile(`(?m)^    ksock `)

var _ = Describe("KBUS under random load and random kills", func() {
	It("keeps every promise while repliers are killed at random", func() {
		seed, _ := Seed("stress.seed")
		secs, ok := Param("stress.seconds")
		if !ok {
			secs = 30
		}
		seconds := int(secs)
		fmt.Fprintf(GinkgoWriter, "stress: seed %d, %d s, %d requester, %d listener and %d replier processes × %d threads\n",
			seed, seconds, requesters, listeners, repliers, threads)
		AddReportEntry("seed", seed)
		dir := GinkgoT().TempDir()
		r := rand.New(rand.NewSource(seed))

		var survivors, victims []*worker
		for i := 0; i < listeners; i++ {
			survivors = append(survivors, start(roleListener, seed+int64(i), seconds, dir, i))
		}
		for i := 0; i < repliers; i++ {
			victims = append(victims, start(roleReplier, seed+100+int64(i), seconds, dir, i))
		}
		for i := 0; i < requesters; i++ {
			survivors = append(survivors, start(roleRequester, seed+200+int64(i), seconds, dir, i))
		}
		DeferCleanup(func() {
			for _, w := range append(survivors, victims...) {
				_ = w.cmd.Process.Kill()
			}
		})

		// Kill a replier now and then, and start another in its place.
		kills, end := 0, time.Now().Add(time.Duration(seconds)*time.Second)
		for n := repliers; time.Now().Before(end); n++ {
			time.Sleep(time.Duration(300+r.Intn(1200)) * time.Millisecond)
			i := r.Intn(len(victims))
			Expect(victims[i].cmd.Process.Signal(syscall.SIGKILL)).To(Succeed())
			_ = victims[i].cmd.Wait()
			kills++
			victims[i] = start(roleReplier, seed+100+int64(n), seconds, dir, n)
		}
		for _, w := range victims {
			Expect(w.cmd.Process.Signal(syscall.SIGKILL)).To(Succeed())
			_ = w.cmd.Wait()
			kills++
		}
		for _, w := range survivors {
			Expect(w.cmd.Wait()).To(Succeed(), "%s: %v", w.log, lines(w.log, "E"))
		}

		// Every request KBUS accepted got exactly one reply or status.
		accepted, answers, statuses, refused := 0, 0, map[string]int{}, map[string]int{}
		for _, w := range survivors {
			if w.role != roleRequester {
				continue
			}
			got := map[string]int{}
			for _, f := range lines(w.log, "R") {
				got[f[0]]++
				answers++
				if strings.HasPrefix(f[1], "$.KBUS.") {
					statuses[f[1]]++
				}
			}
			for _, f := range lines(w.log, "X") {
				n, _ := strconv.Atoi(f[0])
				why := strings.Join(f[1:], " ")
				if i := strings.Index(why, ": "); i >= 0 { // "kbus0: send NAME: ERRNO: ..."
					why = why[i+2:]
				}
				if i := strings.Index(why, ": "); i >= 0 {
					why = why[i+2:]
				}
				refused[strings.SplitN(why, ":", 2)[0]] += n
			}
			for _, f := range lines(w.log, "A") {
				accepted++
				Expect(got[f[0]]).To(Equal(1), "%s: request %s got %d replies", w.log, f[0], got[f[0]])
				delete(got, f[0])
			}
			Expect(got).To(BeEmpty(), "%s: replies to requests it did not send", w.log)
		}
		if accepted == 0 {
			for _, w := range append(survivors, victims...) {
				for _, k := range []string{"B", "X", "E"} {
					fmt.Fprintf(GinkgoWriter, "%s %s: %v\n", w.log, k, lines(w.log, k))
				}
			}
		}
		Expect(accepted).To(BeNumerically(">", 0), "requests accepted")

		// Listeners saw what they had in common in the same order.
		var seen [][]string
		for _, w := range survivors {
			if w.role != roleListener {
				continue
			}
			byThread := map[string][]string{}
			for _, f := range lines(w.log, "L") {
				byThread[f[0]] = append(byThread[f[0]], f[1])
			}
			for _, ids := range byThread {
				seen = append(seen, ids)
			}
		}
		compared := 0
		for i := range seen {
			for j := i + 1; j < len(seen); j++ {
				compared += inSameOrder(seen[i], seen[j])
			}
		}
		Expect(compared).To(BeNumerically(">", 0))

		// Nothing is left once everyone has gone.
		Eventually(func() string { return ProcFile("stats") }).WithTimeout(10*time.Second).
			ShouldNot(MatchRegexp(ksockLine.String()), "no Ksock is left")
		Expect(ProcFile("stats")).To(ContainSubstring("unsent unbindings 0\n"))
		Expect(DeviceBindings()).NotTo(ContainSubstring("$.Stress"))

		summary := fmt.Sprintf("%d requests accepted, each answered once (%d replies and statuses, of which %v), "+
			"sends refused %v; %d replier kills; %d listener pairs agreed on the order of %d common messages",
			accepted, answers, statuses, refused, kills, len(seen)*(len(seen)-1)/2, compared)
		fmt.Fprintf(GinkgoWriter, "stress: %s\n", summary)
		AddReportEntry("stress", summary)
	})
})
