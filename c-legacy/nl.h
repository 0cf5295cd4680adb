/* SPDX-License-Identifier: MIT */
/*
 * Minimal rtnetlink plumbing in the style of LXC's nl.h: a handler that owns
 * one NETLINK_ROUTE socket, a fixed-capacity request message that lives in the
 * caller's stack frame, attribute helpers and a send-and-wait-for-ACK
 * transaction.
 *
 * Nothing here allocates, prints, exits or aborts: the verbs built on top of it
 * also run in a container child right after a raw clone() of a possibly
 * multi-threaded host, where malloc() may deadlock. Every function returns 0
 * or a negative errno.
 */
#ifndef LEGACY_NL_H
#define LEGACY_NL_H

#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

/*
 * Capacity of a request message. The largest request we build (a veth pair
 * with a peer namespace, MAC and MTU) is under 200 bytes.
 */
#define LEGACY_NLMSG_SIZE 1024

/*
 * Size of the receive buffer a transaction keeps on its stack. One RTM_GETLINK
 * reply (statistics skipped) is about 2 KiB; larger datagrams fail with
 * -EMSGSIZE.
 */
#define LEGACY_NL_RECV_SIZE 8192

/**
 * struct legacy_nl - one open NETLINK_ROUTE socket
 * @fd:    the socket, -1 when closed
 * @seq:   sequence number of the last request sent
 * @local: our address, as assigned by the kernel at bind time
 * @peer:  the kernel's address (pid 0, no groups)
 *
 * The socket belongs to the network namespace of the thread that opened it;
 * every verb acts on that namespace. Plain data: it may be copied or moved
 * while no call is running on it. Not thread-safe.
 */
struct legacy_nl {
	int fd;
	uint32_t seq;
	struct sockaddr_nl local;
	struct sockaddr_nl peer;
};

/**
 * struct legacy_nlmsg - a request being built, on the caller's stack
 * @hdr: the netlink header; hdr.nlmsg_len is the number of bytes used
 * @buf: the whole message
 * @cap: usable capacity of @buf, at most LEGACY_NLMSG_SIZE
 */
struct legacy_nlmsg {
	union {
		struct nlmsghdr hdr;
		char buf[LEGACY_NLMSG_SIZE];
	};
	size_t cap;
};

/**
 * legacy_nl_reply_fn - called for each reply message of a transaction
 * @reply: one message matching the request's sequence number (never an
 *         NLMSG_ERROR); valid only during the call
 * @arg:   the caller's context
 *
 * Return: 0 to go on, a negative errno to make the transaction fail with it
 * (the transaction still reads up to the ACK, so the socket stays in sync).
 */
typedef int (*legacy_nl_reply_fn)(const struct nlmsghdr *reply, void *arg);

/**
 * legacy_netlink_open - open and bind a NETLINK_ROUTE socket
 * @h: the handler to fill; on failure it is left closed (fd -1), so
 *     legacy_netlink_close() on it is harmless
 *
 * The socket is close-on-exec and belongs to the calling thread's network
 * namespace. No allocation: safe after a raw clone().
 *
 * Return: 0, or a negative errno (-EINVAL if @h is NULL).
 */
int legacy_netlink_open(struct legacy_nl *h);

/**
 * legacy_netlink_close - close the handler's socket
 * @h: the handler; NULL and an already closed handler are accepted
 *
 * Never fails; the handler is left closed (fd -1).
 */
void legacy_netlink_close(struct legacy_nl *h);

/**
 * legacy_nlmsg_init - start a request
 * @m:     the message, usually on the caller's stack
 * @cap:   capacity to use, 0 or anything above LEGACY_NLMSG_SIZE meaning
 *         LEGACY_NLMSG_SIZE (smaller values exist for tests)
 * @type:  the request type, e.g. RTM_NEWLINK
 * @flags: NLM_F_* flags; NLM_F_REQUEST and NLM_F_ACK are always added
 *
 * Return: 0, or -EINVAL if @m is NULL or @cap cannot hold a header.
 */
int legacy_nlmsg_init(struct legacy_nlmsg *m, size_t cap, uint16_t type,
		      uint16_t flags);

/**
 * legacy_nlmsg_append - append a family header (struct ifinfomsg, ...)
 * @m:    the message
 * @data: the bytes to copy
 * @len:  their number; the message is padded to NLMSG_ALIGNTO
 *
 * Return: 0, or -EMSGSIZE if it does not fit (the message is unchanged).
 */
int legacy_nlmsg_append(struct legacy_nlmsg *m, const void *data, size_t len);

/**
 * legacy_nla_put_buffer - append an attribute
 * @m:    the message
 * @type: the attribute type, e.g. IFLA_ADDRESS
 * @data: the payload, may be NULL when @len is 0
 * @len:  the payload length
 *
 * Return: 0, or -EMSGSIZE if it does not fit (the message is unchanged).
 */
int legacy_nla_put_buffer(struct legacy_nlmsg *m, uint16_t type,
			  const void *data, size_t len);

/**
 * legacy_nla_put_u32 - append a 32-bit attribute in host byte order
 * @m:     the message
 * @type:  the attribute type
 * @value: the value
 *
 * Return: 0, or -EMSGSIZE if it does not fit.
 */
int legacy_nla_put_u32(struct legacy_nlmsg *m, uint16_t type, uint32_t value);

/**
 * legacy_nla_put_string - append a NUL-terminated string attribute
 * @m:    the message
 * @type: the attribute type, e.g. IFLA_IFNAME
 * @s:    the string, copied with its terminating NUL
 *
 * Return: 0, -EINVAL if @s is NULL, or -EMSGSIZE if it does not fit.
 */
int legacy_nla_put_string(struct legacy_nlmsg *m, uint16_t type,
			  const char *s);

/**
 * legacy_nla_begin_nested - open a nested attribute
 * @m:    the message
 * @type: the attribute type, e.g. IFLA_LINKINFO
 *
 * Attributes appended until legacy_nla_end_nested() go inside it.
 *
 * Return: the attribute to pass to legacy_nla_end_nested(), or NULL if it
 * does not fit (treat as -EMSGSIZE).
 */
struct rtattr *legacy_nla_begin_nested(struct legacy_nlmsg *m, uint16_t type);

/**
 * legacy_nla_end_nested - close a nested attribute
 * @m:    the message
 * @nest: what legacy_nla_begin_nested() returned; NULL is ignored
 */
void legacy_nla_end_nested(struct legacy_nlmsg *m, struct rtattr *nest);

/**
 * legacy_netlink_transaction - send a request and wait for its ACK
 * @h:   an open handler
 * @req: the request; its sequence number is set here
 * @fn:  called for each reply before the ACK (e.g. the RTM_NEWLINK answering
 *       an RTM_GETLINK), may be NULL
 * @arg: passed to @fn
 *
 * Messages left over from an earlier, interrupted transaction (another
 * sequence number) and messages not sent by the kernel are skipped.
 *
 * Return: 0 on ACK, the kernel's negative errno from NLMSG_ERROR, the first
 * error returned by @fn, or a negative errno from send/recv (-EMSGSIZE for a
 * reply larger than LEGACY_NL_RECV_SIZE, -EBADMSG for a malformed one).
 */
int legacy_netlink_transaction(struct legacy_nl *h, struct legacy_nlmsg *req,
			       legacy_nl_reply_fn fn, void *arg);

#endif /* LEGACY_NL_H */
