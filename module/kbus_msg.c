// SPDX-License-Identifier: GPL-2.0 OR MPL-1.1
/*
 * KBUS messages: names, the shared message object, writing a message in any
 * number of pieces, and reading its "entire" form back in pieces.
 *
 * What touches a Ksock's or the device's state runs under the device lock
 * (kbus_internal.h) and asserts it (lockdep); a built message is immutable
 * and reference counted, so allocating, rendering and freeing one need none.
 */
#include <linux/ctype.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/mm.h>
#include "kbus_internal.h"

/*
 * kbus_name_valid - check a message name (or wildcard) against KBUS's rules.
 * Only @len bytes are looked at: "$." then words of alphanumerics separated
 * by single dots, not ending in a dot; a final ".*" or ".%" makes it a
 * wildcard, allowed only when @allow_wildcard. isalnum() is the kernel's, so
 * Latin-1 letters are accepted as the original did.
 */
bool kbus_name_valid(const char *name, u32 len, bool allow_wildcard)
{
	u32 i;

	if (len < 3 || len > KBUS_MAX_NAME_LEN)
		return false;
	if (name[0] != '$' || name[1] != '.')
		return false;
	if (name[len - 2] == '.' && (name[len - 1] == '*' || name[len - 1] == '%')) {
		if (!allow_wildcard)
			return false;
		len -= 2;
		if (len == 1)	/* "$.*" and "$.%" */
			return true;
	}
	if (name[len - 1] == '.')
		return false;
	for (i = 2; i < len; i++) {
		if (name[i] == '.') {
			if (name[i - 1] == '.')
				return false;
		} else if (!isalnum(name[i])) {
			return false;
		}
	}
	return true;
}

u64 kbus_entire_len(u32 name_len, u32 data_len, bool compat)
{
	return kbus_hdr_size(compat) + KBUS_PADDED_NAME_LEN((u64)name_len) +
	       KBUS_PADDED_DATA_LEN((u64)data_len) + 4;
}

/* Set up a freshly zeroed message whose name and data follow it. */
static struct kbus_msg *kbus_msg_init(struct kbus_msg *msg, u32 name_len, u32 data_len)
{
	size_t name_room = KBUS_PADDED_NAME_LEN((size_t)name_len);

	kref_init(&msg->ref);
	msg->name_len = name_len;
	msg->data_len = data_len;
	msg->name = (char *)msg->buf;
	msg->data = data_len ? msg->buf + name_room : NULL;
	return msg;
}

/*
 * The name and the data of a message lie in its allocation as they lie in
 * the entire form, padding (zero) included, so that reading copies them in
 * one piece.
 */
static size_t kbus_body_len(u32 name_len, u32 data_len)
{
	return KBUS_PADDED_NAME_LEN((size_t)name_len) + KBUS_PADDED_DATA_LEN((size_t)data_len);
}

/*
 * kbus_msg_alloc - allocate a message with room for its name and data, one
 * allocation, charged to the caller's memory cgroup. Its size is bounded by
 * the device's maximum message size, checked by the callers.
 */
struct kbus_msg *kbus_msg_alloc(u32 name_len, u32 data_len)
{
	size_t size = sizeof(struct kbus_msg) + kbus_body_len(name_len, data_len);
	struct kbus_msg *msg;

	msg = kvzalloc(size, KBUS_GFP_USER);
	return msg ? kbus_msg_init(msg, name_len, data_len) : NULL;
}

/*
 * kbus_msg_clone - a copy of a message made by kbus_msg_alloc, charged to
 * the memory cgroup active now (the receiver's, kbus_delivery.c).
 */
struct kbus_msg *kbus_msg_clone(const struct kbus_msg *msg)
{
	size_t size = sizeof(*msg) + kbus_body_len(msg->name_len, msg->data_len);
	struct kbus_msg *copy;

	copy = kvmalloc(size, KBUS_GFP_USER | __GFP_NOWARN);
	if (!copy)
		return NULL;
	memcpy(copy, msg, size);
	return kbus_msg_init(copy, msg->name_len, msg->data_len);
}

/*
 * kbus_msg_bytes - what a queued @msg counts against its queue's bytes:
 * its name and data, padded as in the entire form, and a fixed overhead,
 * the same on every architecture (docs/kbus.md §18.1).
 */
size_t kbus_msg_bytes(const struct kbus_msg *msg)
{
	return KBUS_QUEUED_MSG_OVERHEAD + kbus_body_len(msg->name_len, msg->data_len);
}

static void kbus_msg_release(struct kref *ref)
{
	kvfree(container_of(ref, struct kbus_msg, ref));
}

void kbus_msg_put(struct kbus_msg *msg)
{
	if (msg)
		kref_put(&msg->ref, kbus_msg_release);
}

/*
 * kbus_next_id - the next message id of the device. Serial numbers start at
 * 1 and skip 0 when they wrap; the counter holds the next one to issue (0 on
 * a fresh device, which /proc shows as such).
 */
struct kbus_msg_id kbus_next_id(struct kbus_dev *dev)
{
	struct kbus_msg_id id = { 0, 0 };

	lockdep_assert_held(&dev->lock);
	if (dev->next_serial == 0)
		dev->next_serial = 1;
	id.serial_num = dev->next_serial++;
	return id;
}

/*
 * kbus_msg_synthetic - a message from KBUS itself, with a fresh id, from 0,
 * flags @flags | SYNTHETIC and @data_len zeroed data bytes for the caller to
 * fill, allocated with @gfp: NULL if that fails. Callers charge it to the
 * Ksock whose action causes it (KBUS_GFP_USER) and use KBUS_GFP_MUST
 * only where the number of such messages is bounded and losing one would
 * break a promise (a closing Ksock's unbind events).
 */
struct kbus_msg *kbus_msg_synthetic(struct kbus_dev *dev, const char *name, u32 flags,
				    u32 data_len, gfp_t gfp)
{
	u32 name_len = strlen(name);
	struct kbus_msg *msg;

	msg = kzalloc(sizeof(*msg) + kbus_body_len(name_len, data_len), gfp);
	if (!msg)
		return NULL;
	kbus_msg_init(msg, name_len, data_len);
	memcpy(msg->name, name, name_len);
	msg->flags = flags | KBUS_BIT_SYNTHETIC;
	msg->id = kbus_next_id(dev);
	return msg;
}

/* Room for the longest status name ("$.KBUS.Replier.Disappeared"). */
#define KBUS_STATUS_NAME_ROOM	KBUS_PADDED_NAME_LEN(sizeof(KBUS_MSG_NAME_REPLIER_DISAPPEARED) - 1)

/*
 * kbus_status_alloc - the status message a request may need later,
 * allocated (and charged) when the request is sent, so that the reply
 * guarantee never depends on an allocation at the moment a replier goes
 * away. It gets its name and id from kbus_status_fill.
 */
struct kbus_msg *kbus_status_alloc(void)
{
	struct kbus_msg *msg;

	msg = kzalloc(sizeof(*msg) + KBUS_STATUS_NAME_ROOM, KBUS_GFP_USER);
	if (!msg)
		return NULL;
	return kbus_msg_init(msg, 0, 0);
}

/* kbus_status_fill - make a reserved status message the status @name. */
void kbus_status_fill(struct kbus_dev *dev, struct kbus_msg *msg, const char *name)
{
	u32 name_len = strlen(name);

	if (WARN_ON_ONCE(KBUS_PADDED_NAME_LEN(name_len) > KBUS_STATUS_NAME_ROOM))
		name_len = KBUS_STATUS_NAME_ROOM - 1;
	memcpy(msg->name, name, name_len);
	msg->name_len = name_len;
	msg->flags = KBUS_BIT_SYNTHETIC;
	msg->id = kbus_next_id(dev);
}

/* Copy the part of one section of the entire form that overlaps the read. */
static int kbus_copy_section(u32 *pos, u32 *count, char __user **buf, u32 *offset,
			     u32 section_len, const void *src, u32 src_len)
{
	u32 start = *offset, end = *offset + section_len;
	u32 from, n, in_src;

	*offset = end;
	if (*count == 0 || *pos >= end)
		return 0;
	from = *pos - start;
	n = min(*count, end - *pos);
	in_src = from < src_len ? min(n, src_len - from) : 0;
	if (in_src && copy_to_user(*buf, (const u8 *)src + from, in_src))
		return -EFAULT;
	if (n > in_src && clear_user(*buf + in_src, n - in_src))
		return -EFAULT;
	*pos += n;
	*buf += n;
	*count -= n;
	return 0;
}

/* The header of @msg as delivered with @flags, in the caller's layout. */
static void kbus_render_header(const struct kbus_msg *msg, u32 flags, bool compat, u8 *out)
{
	struct kbus_message_header hdr;
	u32 guard = KBUS_MSG_END_GUARD;

	memset(&hdr, 0, sizeof(hdr));
	hdr.start_guard = KBUS_MSG_START_GUARD;
	hdr.id = msg->id;
	hdr.in_reply_to = msg->in_reply_to;
	hdr.to = msg->to;
	hdr.from = msg->from;
	hdr.orig_from = msg->orig_from;
	hdr.final_to = msg->final_to;
	hdr.flags = flags;
	hdr.name_len = msg->name_len;
	hdr.data_len = msg->data_len;
	hdr.end_guard = KBUS_MSG_END_GUARD;
	if (!compat) {
		memcpy(out, &hdr, sizeof(hdr));
		return;
	}
	/* ILP32: NULL 4-byte pointers at 60 and 64, the end guard at 68. */
	memset(out, 0, KBUS_COMPAT_HDR_SIZE);
	memcpy(out, &hdr, KBUS_HDR_COMMON_SIZE);
	memcpy(out + KBUS_COMPAT_HDR_SIZE - 4, &guard, 4);
}

/* A whole message up to this size is put together here and copied once. */
#define KBUS_SMALL_COPY		256

/*
 * kbus_msg_copy_out - copy @count bytes of @msg's entire form, as delivered
 * with @flags in the caller's layout, starting at byte @pos, to user memory.
 * Callers keep @pos + @count within the entire length.
 */
int kbus_msg_copy_out(const struct kbus_msg *msg, u32 flags, bool compat, u32 pos,
		      char __user *buf, u32 count)
{
	u8 hdr[sizeof(struct kbus_message_header)];
	u32 hdr_size = kbus_hdr_size(compat);
	u32 body = kbus_body_len(msg->name_len, msg->data_len);
	u32 end_guard = KBUS_MSG_END_GUARD;
	u32 offset = 0;
	int err;

	if (pos == 0 && count == hdr_size + body + 4 && count <= KBUS_SMALL_COPY) {
		u8 whole[KBUS_SMALL_COPY];

		kbus_render_header(msg, flags, compat, whole);
		memcpy(whole + hdr_size, msg->buf, body);
		memcpy(whole + hdr_size + body, &end_guard, 4);
		return copy_to_user(buf, whole, count) ? -EFAULT : 0;
	}
	kbus_render_header(msg, flags, compat, hdr);
	err = kbus_copy_section(&pos, &count, &buf, &offset, hdr_size, hdr, hdr_size);
	if (!err)
		err = kbus_copy_section(&pos, &count, &buf, &offset, body, msg->buf, body);
	if (!err)
		err = kbus_copy_section(&pos, &count, &buf, &offset, 4, &end_guard, 4);
	return err;
}

static const char * const kbus_wpart_names[] = {
	[KBUS_PART_HDR] = "HDR",
	[KBUS_PART_NAME] = "NAME",
	[KBUS_PART_NPAD] = "NPAD",
	[KBUS_PART_DATA] = "DATA",
	[KBUS_PART_DPAD] = "DPAD",
	[KBUS_PART_FINAL] = "FINAL",
};

const char *kbus_wpart_name(enum kbus_wpart part)
{
	return kbus_wpart_names[part];
}

/*
 * What /proc/kbus/stats shows of the message being written: published at
 * the end of each change, read there under the device lock only, which a
 * writer does not hold (kbus_internal.h, "Locking").
 */
static void kbus_show_write(struct kbus_ksock *ks)
{
	const struct kbus_wmsg *w = ks->wmsg;

	WRITE_ONCE(ks->wshown.pos, w ? w->pos : 0);
	WRITE_ONCE(ks->wshown.part, w ? w->part : KBUS_PART_HDR);
	WRITE_ONCE(ks->wshown.complete, w && w->complete);
}

void kbus_discard_write(struct kbus_ksock *ks)
{
	lockdep_assert_held(&ks->write_lock);
	if (!ks->wmsg)
		return;
	kbus_msg_put(ks->wmsg->msg);
	kfree(ks->wmsg);
	ks->wmsg = NULL;
	kbus_show_write(ks);
}

/* Decode the header as written, in the writer's layout. */
static void kbus_decode_header(struct kbus_wmsg *w)
{
	struct kbus_message_header *h = &w->hdr;
	u32 ptr;

	if (!w->compat) {
		memcpy(h, w->raw, sizeof(*h));
		return;
	}
	memset(h, 0, sizeof(*h));
	memcpy(h, w->raw, KBUS_HDR_COMMON_SIZE);
	memcpy(&ptr, w->raw + 60, 4);
	h->name = compat_ptr(ptr);
	memcpy(&ptr, w->raw + 64, 4);
	h->data = compat_ptr(ptr);
	memcpy(&h->end_guard, w->raw + 68, 4);
}

/* Validate a completely written header, in the documented order. */
static int kbus_check_header(struct kbus_dev *dev, const struct kbus_message_header *h,
			     bool compat)
{
	if (h->start_guard != KBUS_MSG_START_GUARD)
		return -EINVAL;
	if (h->end_guard != KBUS_MSG_END_GUARD)
		return -EINVAL;
	if (h->name_len == 0)
		return -EINVAL;
	if (h->name_len > KBUS_MAX_NAME_LEN)
		return -ENAMETOOLONG;
	if (!h->name && h->data)
		return -EINVAL;
	if (h->name && !h->data && h->data_len)
		return -EINVAL;
	if (!h->data_len && h->data)
		return -EINVAL;
	if ((h->flags & KBUS_SEND_FLAGS) == KBUS_SEND_FLAGS)
		return -EINVAL;
	if (kbus_entire_len(h->name_len, h->data_len, compat) > READ_ONCE(dev->max_message_size))
		return -EMSGSIZE;
	return 0;
}

/*
 * The name and data of an entire message, written in one piece: copied in
 * one piece, since the message's allocation lays them out as the entire
 * form does; the padding the writer sent is zeroed, and the name checked as
 * at the end of its part. EFAULT leaves the message as it was, for the
 * part-by-part path to say which part faulted.
 */
static ssize_t kbus_write_body(struct kbus_wmsg *w, const char __user *buf)
{
	const struct kbus_message_header *h = &w->hdr;
	u32 name_room = KBUS_PADDED_NAME_LEN(h->name_len);
	u32 body = kbus_body_len(h->name_len, h->data_len);
	u8 *b = w->msg->buf;

	if (copy_from_user(b, buf, body)) {
		memset(b, 0, body);
		return -EFAULT;
	}
	memset(b + h->name_len, 0, name_room - h->name_len);
	memset(b + name_room + h->data_len, 0, KBUS_PADDED_DATA_LEN(h->data_len) - h->data_len);
	if (!kbus_name_valid(w->msg->name, h->name_len, false))
		return -EBADMSG;
	w->part = KBUS_PART_FINAL;
	return body;
}

/* Consume up to @avail bytes of the current part; returns bytes used. */
static ssize_t kbus_write_part(struct kbus_ksock *ks, struct kbus_wmsg *w,
			       const char __user *buf, size_t avail)
{
	const struct kbus_message_header *h = &w->hdr;
	u32 part_len, n;
	void *dst = NULL;
	ssize_t fast;
	int err;

	if (w->part == KBUS_PART_NAME && w->pos == 0 &&
	    avail >= kbus_body_len(h->name_len, h->data_len)) {
		fast = kbus_write_body(w, buf);
		if (fast != -EFAULT)
			return fast;
	}

	switch (w->part) {
	case KBUS_PART_HDR:
		part_len = kbus_hdr_size(w->compat);
		dst = w->raw;
		break;
	case KBUS_PART_NAME:
		part_len = h->name_len;
		dst = w->msg->name;
		break;
	case KBUS_PART_NPAD:
		part_len = KBUS_PADDED_NAME_LEN(h->name_len) - h->name_len;
		break;
	case KBUS_PART_DATA:
		part_len = h->data_len;
		dst = w->msg->data;
		break;
	case KBUS_PART_DPAD:
		part_len = KBUS_PADDED_DATA_LEN(h->data_len) - h->data_len;
		break;
	default:
		part_len = 4;
		dst = (u8 *)&w->final_guard;
		break;
	}
	n = min_t(size_t, avail, part_len - w->pos);
	if (dst && copy_from_user((u8 *)dst + w->pos, buf, n))
		return -EFAULT;
	w->pos += n;
	if (w->pos < part_len)
		return n;

	/* The part is complete: check it and move on. */
	w->pos = 0;
	switch (w->part) {
	case KBUS_PART_HDR:
		kbus_decode_header(w);
		err = kbus_check_header(ks->dev, h, w->compat);
		if (err)
			return err;
		if (h->name) {
			w->pointy = true;
			w->complete = true;
			break;
		}
		w->msg = kbus_msg_alloc(h->name_len, h->data_len);
		if (!w->msg)
			return -ENOMEM;
		w->part = KBUS_PART_NAME;
		break;
	case KBUS_PART_NAME:
		if (!kbus_name_valid(w->msg->name, h->name_len, false))
			return -EBADMSG;
		w->part = KBUS_PART_NPAD;
		break;
	case KBUS_PART_NPAD:
		w->part = h->data_len ? KBUS_PART_DATA : KBUS_PART_FINAL;
		break;
	case KBUS_PART_DATA:
		w->part = KBUS_PADDED_DATA_LEN(h->data_len) > h->data_len ?
			  KBUS_PART_DPAD : KBUS_PART_FINAL;
		break;
	case KBUS_PART_DPAD:
		w->part = KBUS_PART_FINAL;
		break;
	case KBUS_PART_FINAL:
		if (w->final_guard != KBUS_MSG_END_GUARD)
			return -EINVAL;
		w->complete = true;
		break;
	}
	return n;
}

/*
 * kbus_write_msg - append @count bytes to the Ksock's message in progress.
 * Any error throws the whole message away. While an ALL_OR_WAIT send is
 * pending the write fails with EALREADY and the pending message is kept
 * (the original freed it here and crashed later, docs/kbus.md §16.2).
 */
ssize_t kbus_write_msg(struct kbus_ksock *ks, const char __user *buf, size_t count)
{
	struct kbus_wmsg *w;
	size_t done = 0;
	ssize_t n;

	lockdep_assert_held(&ks->write_lock);
	/* Only SEND, which holds write_lock too, starts a pending send. */
	if (READ_ONCE(ks->sending))
		return -EALREADY;
	if (count == 0)
		return 0;
	if (!ks->wmsg) {
		ks->wmsg = kzalloc(sizeof(*ks->wmsg), KBUS_GFP_USER);
		if (!ks->wmsg)
			return -ENOMEM;
		ks->wmsg->compat = kbus_compat();
	}
	w = ks->wmsg;
	while (done < count) {
		if (w->complete) {
			n = -EMSGSIZE;
			goto fail;
		}
		n = kbus_write_part(ks, w, buf + done, count - done);
		if (n < 0)
			goto fail;
		done += n;
	}
	kbus_show_write(ks);
	return count;

fail:
	kbus_discard_write(ks);
	return n;
}

/*
 * kbus_fetch_pointy - a pointy message's name and data, copied in from
 * wherever its header points, with write_lock held but not the device
 * lock, so a slow page there holds up only this Ksock's writers (§18.2).
 * Nothing to do for an entire message, or for none. Afterwards the written
 * message is entire: a SEND interrupted before it got the device lock
 * keeps it, and does not read the pointers again. EFAULT, EBADMSG and
 * ENOMEM throw the message away, as SEND did when it read them itself.
 */
int kbus_fetch_pointy(struct kbus_ksock *ks)
{
	struct kbus_wmsg *w = ks->wmsg;
	const struct kbus_message_header *h;
	struct kbus_msg *msg;
	int err;

	lockdep_assert_held(&ks->write_lock);
	if (!w || !w->complete || !w->pointy)
		return 0;
	h = &w->hdr;
	msg = kbus_msg_alloc(h->name_len, h->data_len);
	if (!msg) {
		err = -ENOMEM;
		goto discard;
	}
	w->msg = msg;
	if (copy_from_user(msg->name, h->name, h->name_len + 1)) {
		err = -EFAULT;
		goto discard;
	}
	msg->name[h->name_len] = '\0';
	if (!kbus_name_valid(msg->name, h->name_len, false)) {
		err = -EBADMSG;
		goto discard;
	}
	if (h->data_len && copy_from_user(msg->data, h->data, h->data_len)) {
		err = -EFAULT;
		goto discard;
	}
	w->pointy = false;
	return 0;

discard:
	kbus_discard_write(ks);
	return err;
}

/*
 * kbus_finish_write - turn the written message into a message ready to
 * send: ENOMSG if there is none, EINVAL if it is incomplete. A pointy
 * message has been fetched (kbus_fetch_pointy). On success the write
 * state is consumed.
 */
int kbus_finish_write(struct kbus_ksock *ks, struct kbus_msg **msgp)
{
	struct kbus_wmsg *w = ks->wmsg;
	const struct kbus_message_header *h;
	struct kbus_msg *msg;

	lockdep_assert_held(&ks->write_lock);
	lockdep_assert_held(&ks->dev->lock);
	if (!w)
		return -ENOMSG;
	if (!w->complete || WARN_ON_ONCE(w->pointy)) {
		kbus_discard_write(ks);
		return -EINVAL;
	}
	h = &w->hdr;
	msg = w->msg;
	msg->id = h->id;
	msg->in_reply_to = h->in_reply_to;
	msg->to = h->to;
	msg->orig_from = h->orig_from;
	msg->final_to = h->final_to;
	msg->flags = h->flags & ~KBUS_BIT_SYNTHETIC;
	w->msg = NULL;
	kbus_discard_write(ks);
	*msgp = msg;
	return 0;
}
