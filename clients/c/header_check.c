/* SPDX-License-Identifier: GPL-2.0 OR MPL-1.1 */
/*
 * Uses every macro and helper the uapi header gives user space, so that
 * compiling this file as C89, C99 and C++ with warnings as errors shows the
 * header builds for any C user. Nothing here runs.
 */
#include <stddef.h>
#include <linux/kbus_defns.h>

struct kbus_msg_id kbus_check_id;
struct kbus_orig_from kbus_check_from;
struct kbus_bind_request kbus_check_bind;
struct kbus_bind_query kbus_check_query;

unsigned long kbus_check_values[] = {
	KBUS_MSG_START_GUARD, KBUS_MSG_END_GUARD, KBUS_MAX_NAME_LEN,
	KBUS_BIT_WANT_A_REPLY, KBUS_BIT_WANT_YOU_TO_REPLY, KBUS_BIT_SYNTHETIC, KBUS_BIT_URGENT,
	KBUS_BIT_ALL_OR_WAIT, KBUS_BIT_ALL_OR_FAIL,
	KBUS_ENTIRE_MSG_NAME_INDEX(6), KBUS_ENTIRE_MSG_DATA_INDEX(6), KBUS_ENTIRE_MSG_END_GUARD_INDEX(6, 7),
	KBUS_PADDED_NAME_LEN(6), KBUS_PADDED_DATA_LEN(7), KBUS_ENTIRE_MSG_LEN(6, 7),
	KBUS_IOC_MAGIC, KBUS_IOC_RESET, KBUS_IOC_BIND, KBUS_IOC_UNBIND, KBUS_IOC_KSOCKID,
	KBUS_IOC_REPLIER, KBUS_IOC_NEXTMSG, KBUS_IOC_LENLEFT, KBUS_IOC_SEND, KBUS_IOC_DISCARD,
	KBUS_IOC_LASTSENT, KBUS_IOC_MAXMSGS, KBUS_IOC_NUMMSGS, KBUS_IOC_UNREPLIEDTO,
	KBUS_IOC_MSGONLYONCE, KBUS_IOC_VERBOSE, KBUS_IOC_NEWDEVICE, KBUS_IOC_REPORTREPLIERBINDS,
	KBUS_IOC_MAXMSGSIZE, KBUS_IOC_MAXNR,
	sizeof(struct kbus_replier_bind_event_data),
};

const char *kbus_check_names[] = {
	KBUS_MSG_NAME_REPLIER_BIND_EVENT, KBUS_MSG_NAME_REPLIER_UNBOUND, KBUS_MSG_NAME_REPLIER_GONEAWAY,
	KBUS_MSG_NAME_REPLIER_IGNORED, KBUS_MSG_NAME_REPLIER_DISAPPEARED, KBUS_MSG_NAME_ERROR_SENDING,
	KBUS_MSG_NAME_UNBIND_EVENTS_LOST,
};

char *kbus_check_helpers(struct kbus_entire_message *msg);

char *kbus_check_helpers(struct kbus_entire_message *msg)
{
	char *data = (char *)kbus_msg_data_ptr(&msg->header);
	kbus_u32 *end = kbus_msg_end_ptr(msg);

	if (*end != KBUS_MSG_END_GUARD)
		return data;
	return kbus_msg_name_ptr(&msg->header);
}

#ifdef __user
#error "the header leaks the kernel's __user into user space"
#endif
