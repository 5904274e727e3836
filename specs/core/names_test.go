package core_test

import (
	"strings"

	"github.com/kbus-project/kbus/kbus"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("§2 Message names", func() {
	var ks *kbus.Ksock
	BeforeEach(func() { ks = RW() })

	DescribeTable("a valid name or wildcard can be bound",
		func(name string) { Expect(ks.BindListener(name)).To(Succeed()) },
		Entry(nil, "$.Fred"),
		Entry(nil, "$.Fred.Jim"),
		Entry(nil, "$.a"),
		Entry(nil, "$.Fred.Jim.Bob99"),
		Entry(nil, "$.*"),
		Entry(nil, "$.%"),
		Entry(nil, "$.Fred.*"),
		Entry(nil, "$.Fred.%"),
		Entry("a 1000-byte name", "$."+strings.Repeat("x", 998)),
	)

	DescribeTable("an invalid name is refused with EBADMSG",
		func(name string) { Expect(ks.BindListener(name)).To(MatchError(kbus.ErrBadName)) },
		Entry(nil, "$.Fred."),
		Entry(nil, "$.Fred..Jim"),
		Entry(nil, "$.#"),
		Entry(nil, "$.a-b"),
		Entry(nil, "$.a_b"),
		Entry(nil, "$.a b"),
		Entry(nil, "$.Fred*"),
		Entry(nil, "$.*.Fred"),
		Entry(nil, "$.."),
		Entry(nil, "$.Fred.**"),
		Entry(nil, "Fred"),
		Entry(nil, "$Fred"),
		Entry(nil, "$$.Fred"),
		Entry(nil, "$."),
		Entry(nil, "$"),
		Entry(nil, ".$Fred"),
	)

	It("refuses an empty name with EBADMSG and one over 1000 bytes with ENAMETOOLONG", func() {
		Expect(ks.BindListener("")).To(MatchError(kbus.ErrBadName))
		Expect(ks.BindListener("$." + strings.Repeat("x", 999))).To(MatchError(kbus.ErrNameTooLong))
	})

	It("treats case as significant", func() {
		BindListener(ks, "$.fred")
		Send(ks, kbus.NewAnnouncement("$.Fred", nil))
		Empty(ks)
		Send(ks, kbus.NewAnnouncement("$.fred", nil))
		Expect(Next(ks).Name).To(Equal("$.fred"))
	})

	It("never sends a wildcard name", func() {
		Expect(ks.Syscalls().WriteMsg(kbus.NewAnnouncement("$.Fred.*", nil))).To(MatchError(kbus.ErrBadName))
		Expect(ks.Syscalls().WriteMsg(kbus.NewAnnouncement("$.%", nil))).To(MatchError(kbus.ErrBadName))
	})

	It("lets $.KBUS.ReplierBindEvent be a listener binding but not a replier binding", func() {
		Expect(ks.BindListener(kbus.NameReplierBindEvent)).To(Succeed())
		Expect(ks.BindReplier(kbus.NameReplierBindEvent)).To(MatchError(kbus.ErrBadName))
	})

	Describe("§2.2 matching a message name against bindings", func() {
		DescribeTable("which names a binding hears",
			func(binding string, heard []string, unheard []string) {
				listener, sender := RW(), RW()
				BindListener(listener, binding)
				for _, n := range append(append([]string{}, heard...), unheard...) {
					Send(sender, kbus.NewAnnouncement(n, nil))
				}
				Expect(Names(listener)).To(Equal(heard))
			},
			Entry("a * wildcard hears every deeper name", "$.Fred.*",
				[]string{"$.Fred.Jim", "$.Fred.Jim.Bob"}, []string{"$.Fred", "$.Freddy.Jim", "$.Jim"}),
			Entry("a % wildcard hears one level only", "$.Fred.%",
				[]string{"$.Fred.Jim"}, []string{"$.Fred", "$.Fred.Jim.Bob"}),
			Entry("$.* hears everything", "$.*",
				[]string{"$.a", "$.Fred.Jim.Bob"}, nil),
			Entry("$.% hears the top level", "$.%",
				[]string{"$.a", "$.Fred"}, []string{"$.Fred.Jim"}),
			Entry("an exact name hears itself only", "$.Fred",
				[]string{"$.Fred"}, []string{"$.Fred.Jim", "$.Fre", "$.Freddy"}),
		)
	})

	Describe("§2.3 choosing the replier", func() {
		It("prefers an exact binding to % and % to *", func() {
			star, percent, exact, sender := RW(), RW(), RW(), RW()
			BindReplier(star, "$.S.*")
			BindReplier(percent, "$.S.%")
			BindReplier(exact, "$.S.Kitchen")
			Send(sender, kbus.NewRequest("$.S.Kitchen", nil))
			Send(sender, kbus.NewRequest("$.S.Hall", nil))
			Send(sender, kbus.NewRequest("$.S.Hall.Door", nil))
			Expect(Names(exact)).To(Equal([]string{"$.S.Kitchen"}))
			Expect(Names(percent)).To(Equal([]string{"$.S.Hall"}))
			Expect(Names(star)).To(Equal([]string{"$.S.Hall.Door"}))
		})

		It("between two * wildcards picks the newest binding, not the deeper one", func() {
			shallow, deep, sender := RW(), RW(), RW()
			BindReplier(deep, "$.A.B.*")
			BindReplier(shallow, "$.A.*")
			Send(sender, kbus.NewRequest("$.A.B.C", nil))
			Empty(deep)
			Expect(Next(shallow).Name).To(Equal("$.A.B.C"))
		})

		It("allows one replier per exact name string, even on the same Ksock", func() {
			a, b := RW(), RW()
			BindReplier(a, "$.Only")
			Expect(b.BindReplier("$.Only")).To(MatchError(kbus.ErrReplierExists))
			Expect(a.BindReplier("$.Only")).To(MatchError(kbus.ErrReplierExists))
			Expect(b.BindListener("$.Only")).To(Succeed())
			Expect(b.BindReplier("$.Only.*")).To(Succeed())
		})
	})
})
