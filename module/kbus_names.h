/* SPDX-License-Identifier: GPL-2.0 OR MPL-1.1 */
/*
 * Names of the messages KBUS itself sends: the one list in C. The Go API's
 * list (kbus.Name*) is checked against this one by a test that compiles
 * this header on the host, so it holds string macros only and includes
 * nothing.
 */
#ifndef _KBUS_NAMES_H
#define _KBUS_NAMES_H

#define KBUS_NAME_REPLIER_BIND_EVENT	"$.KBUS.ReplierBindEvent"
#define KBUS_NAME_REPLIER_UNBOUND	"$.KBUS.Replier.Unbound"
#define KBUS_NAME_REPLIER_GONEAWAY	"$.KBUS.Replier.GoneAway"
#define KBUS_NAME_REPLIER_IGNORED	"$.KBUS.Replier.Ignored"
#define KBUS_NAME_REPLIER_DISAPPEARED	"$.KBUS.Replier.Disappeared"
#define KBUS_NAME_ERROR_SENDING		"$.KBUS.ErrorSending"
#define KBUS_NAME_UNBIND_EVENTS_LOST	"$.KBUS.UnbindEventsLost"

#endif /* _KBUS_NAMES_H */
