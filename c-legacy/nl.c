/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink plumbing: see nl.h. Allocation-free on purpose; every buffer is
 * on the stack of the caller or of legacy_netlink_transaction().
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nl.h"

_Static_assert(LEGACY_NLMSG_SIZE <= UINT16_MAX,
	       "a nested attribute length must fit rta_len");
_Static_assert(LEGACY_NLMSG_SIZE >= NLMSG_HDRLEN, "room for a header");

/* Scope-based cleanup, as LXC's memory_utils.h does it. */
static inline void close_fdp(int *fd)
{
	if (fd && *fd >= 0) {
		int saved = errno;

		close(*fd);
		*fd = -EBADF;
		errno = saved;
	}
}
#define __do_close __attribute__((__cleanup__(close_fdp)))

/* Hand a descriptor over to a longer-lived owner, disarming its cleanup. */
static inline int move_fd(int *fd)
{
	int ret = *fd;

	*fd = -EBADF;
	return ret;
}

int legacy_netlink_open(struct legacy_nl *h)
{
	__do_close int fd = -EBADF;
	socklen_t len;
	int one = 1;

	if (!h)
		return -EINVAL;

	memset(h, 0, sizeof(*h));
	h->fd = -1;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;

	/*
	 * Error replies then carry only the request's header, not the whole
	 * request. Kernels before 4.3 lack the option; that only costs bytes.
	 */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));

	h->local.nl_family = AF_NETLINK;
	if (bind(fd, (struct sockaddr *)&h->local, sizeof(h->local)) < 0)
		return -errno;

	len = sizeof(h->local);
	if (getsockname(fd, (struct sockaddr *)&h->local, &len) < 0)
		return -errno;
	if (len != sizeof(h->local) || h->local.nl_family != AF_NETLINK)
		return -EINVAL;

	h->peer.nl_family = AF_NETLINK;
	h->fd = move_fd(&fd);
	return 0;
}

void legacy_netlink_close(struct legacy_nl *h)
{
	if (!h)
		return;
	close_fdp(&h->fd);
	h->fd = -1;
}

int legacy_nlmsg_init(struct legacy_nlmsg *m, size_t cap, uint16_t type,
		      uint16_t flags)
{
	if (!m)
		return -EINVAL;
	if (cap == 0 || cap > sizeof(m->buf))
		cap = sizeof(m->buf);
	if (cap < NLMSG_HDRLEN)
		return -EINVAL;

	memset(&m->hdr, 0, NLMSG_HDRLEN);
	m->cap = cap;
	m->hdr.nlmsg_len = NLMSG_HDRLEN;
	m->hdr.nlmsg_type = type;
	m->hdr.nlmsg_flags = flags | NLM_F_REQUEST | NLM_F_ACK;
	return 0;
}

/*
 * Reserve @len bytes, padded to 4, at the end of the message and zero the
 * padding. Returns NULL, leaving the message unchanged, if they do not fit.
 */
static void *nlmsg_reserve(struct legacy_nlmsg *m, size_t len)
{
	size_t tail = NLMSG_ALIGN(m->hdr.nlmsg_len);
	size_t padded = NLMSG_ALIGN(len);
	char *p;

	if (padded < len || tail > m->cap || padded > m->cap - tail)
		return NULL;

	p = m->buf + tail;
	memset(p, 0, padded);
	m->hdr.nlmsg_len = tail + padded;
	return p;
}

int legacy_nlmsg_append(struct legacy_nlmsg *m, const void *data, size_t len)
{
	void *p;

	if (!m || (!data && len))
		return -EINVAL;

	p = nlmsg_reserve(m, len);
	if (!p)
		return -EMSGSIZE;
	if (len)
		memcpy(p, data, len);
	return 0;
}

int legacy_nla_put_buffer(struct legacy_nlmsg *m, uint16_t type,
			  const void *data, size_t len)
{
	struct rtattr *rta;

	if (!m || (!data && len))
		return -EINVAL;
	/* rta_len is 16 bits wide. */
	if (len > UINT16_MAX - RTA_LENGTH(0))
		return -EMSGSIZE;

	rta = nlmsg_reserve(m, RTA_LENGTH(len));
	if (!rta)
		return -EMSGSIZE;
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	return 0;
}

int legacy_nla_put_u32(struct legacy_nlmsg *m, uint16_t type, uint32_t value)
{
	return legacy_nla_put_buffer(m, type, &value, sizeof(value));
}

int legacy_nla_put_string(struct legacy_nlmsg *m, uint16_t type,
			  const char *s)
{
	if (!s)
		return -EINVAL;
	return legacy_nla_put_buffer(m, type, s, strlen(s) + 1);
}

struct rtattr *legacy_nla_begin_nested(struct legacy_nlmsg *m, uint16_t type)
{
	struct rtattr *nest;

	if (!m)
		return NULL;
	nest = nlmsg_reserve(m, RTA_LENGTH(0));
	if (!nest)
		return NULL;
	nest->rta_type = type;
	nest->rta_len = RTA_LENGTH(0);
	return nest;
}

void legacy_nla_end_nested(struct legacy_nlmsg *m, struct rtattr *nest)
{
	if (!m || !nest)
		return;
	/* Bounded by the capacity, which the static assert keeps in 16 bits. */
	nest->rta_len = (unsigned short)(m->buf + m->hdr.nlmsg_len - (char *)nest);
}

static int nl_send(struct legacy_nl *h, const struct legacy_nlmsg *req)
{
	ssize_t n;

	do {
		n = sendto(h->fd, req->buf, req->hdr.nlmsg_len, 0,
			   (const struct sockaddr *)&h->peer, sizeof(h->peer));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* Netlink datagrams are sent whole or not at all. */
	if ((size_t)n != req->hdr.nlmsg_len)
		return -EIO;
	return 0;
}

/* Receive one datagram from the kernel into @buf; returns its length. */
static ssize_t nl_recv(struct legacy_nl *h, void *buf, size_t size)
{
	struct sockaddr_nl from;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	ssize_t n;

	for (;;) {
		memset(&from, 0, sizeof(from));
		msg.msg_namelen = sizeof(from);
		n = recvmsg(h->fd, &msg, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (msg.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		/* Only the kernel may answer; ignore anyone else. */
		if (msg.msg_namelen != sizeof(from) || from.nl_pid != 0)
			continue;
		return n;
	}
}

int legacy_netlink_transaction(struct legacy_nl *h, struct legacy_nlmsg *req,
			       legacy_nl_reply_fn fn, void *arg)
{
	union {
		struct nlmsghdr hdr;
		char buf[LEGACY_NL_RECV_SIZE];
	} rx;
	uint32_t seq;
	int ret = 0;

	if (!h || !req || h->fd < 0)
		return -EINVAL;
	if (req->hdr.nlmsg_len < NLMSG_HDRLEN || req->hdr.nlmsg_len > req->cap)
		return -EINVAL;

	seq = ++h->seq;
	req->hdr.nlmsg_seq = seq;
	req->hdr.nlmsg_pid = 0;
	req->hdr.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;

	ret = nl_send(h, req);
	if (ret < 0)
		return ret;

	for (;;) {
		ssize_t n = nl_recv(h, rx.buf, sizeof(rx.buf));
		size_t len, off;

		if (n < 0)
			return (int)n;
		len = (size_t)n;

		/*
		 * Walk the datagram by hand rather than with NLMSG_OK/NEXT, whose
		 * arithmetic wants a signed length and then trips -Wsign-compare.
		 */
		for (off = 0; len - off >= NLMSG_HDRLEN;) {
			const struct nlmsghdr *nlh = (const void *)(rx.buf + off);
			const struct nlmsgerr *err;

			if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > len - off)
				return -EBADMSG;
			off += NLMSG_ALIGN(nlh->nlmsg_len);
			if (off > len)
				off = len;

			/* A leftover of an earlier, abandoned transaction. */
			if (nlh->nlmsg_seq != seq)
				continue;

			switch (nlh->nlmsg_type) {
			case NLMSG_NOOP:
				break;
			case NLMSG_OVERRUN:
				return -ENOBUFS;
			case NLMSG_DONE:
				return ret;
			case NLMSG_ERROR:
				if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*err)))
					return -EBADMSG;
				err = NLMSG_DATA(nlh);
				if (err->error > 0)
					return -EPROTO;
				/* The ACK: report the reply callback's error, if any. */
				if (err->error == 0)
					return ret;
				return err->error;
			default:
				if (fn && ret == 0)
					ret = fn(nlh, arg);
				break;
			}
		}
	}
}
