// Package limpet proxies KBUS between buses and machines. A Limpet holds a
// Ksock on its own bus and a stream to a peer Limpet; together the pair
// makes the two buses one for the names it forwards. The pieces, a file
// each:
//
//   - frame.go: the wire format between two Limpets;
//   - handshake.go: HELO, network ids and the pre-shared-key proof;
//   - limpet.go: the proxy itself, announcements, requests, replies and
//     the status messages that keep the reply guarantee across the link;
//   - repliers.go: the mirror of the bus's replier bindings;
//   - daemon.go: reconnecting with backoff, for a long-running Limpet.
package limpet
