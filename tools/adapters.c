/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* adapters.c - `ipredir adapters`: the original product's adapter chooser.
 * The interfaces of this namespace (rtnetlink dumps through libmnl), with
 * what a filter on ifIdx or -i needs to know about them. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "tool.h"

struct ifaddr {
	int family;
	char text[IPR_ADDRSTRLEN];
	unsigned prefix;
};

struct adapter {
	unsigned index, mtu, flags, master, link;
	uint8_t operstate;
	char name[IFNAMSIZ];
	char kind[32];
	char driver[32];
	char mac[24];
	struct ifaddr *addrs;
	size_t naddrs;
};

struct list {
	struct adapter *v;
	size_t n;
};

static struct adapter *by_index(struct list *l, unsigned idx)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].index == idx)
			return &l->v[i];
	return NULL;
}

static void linkinfo(const struct nlattr *nest, struct adapter *a)
{
	const struct nlattr *x;
	mnl_attr_for_each_nested(x, nest)
		if (mnl_attr_get_type(x) == IFLA_INFO_KIND)
			snprintf(a->kind, sizeof(a->kind), "%s",
				 mnl_attr_get_str(x));
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct list *l = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct adapter a = { .index = (unsigned)ifi->ifi_index,
			     .flags = ifi->ifi_flags };
	const struct nlattr *x;
	mnl_attr_for_each(x, nlh, sizeof(*ifi)) {
		switch (mnl_attr_get_type(x)) {
		case IFLA_IFNAME:
			snprintf(a.name, sizeof(a.name), "%s",
				 mnl_attr_get_str(x));
			break;
		case IFLA_MTU:
			a.mtu = mnl_attr_get_u32(x);
			break;
		case IFLA_OPERSTATE:
			a.operstate = mnl_attr_get_u8(x);
			break;
		case IFLA_MASTER:
			a.master = mnl_attr_get_u32(x);
			break;
		case IFLA_LINK:
			a.link = mnl_attr_get_u32(x);
			break;
		case IFLA_LINKINFO:
			linkinfo(x, &a);
			break;
		case IFLA_ADDRESS: {
			const uint8_t *m = mnl_attr_get_payload(x);
			if (mnl_attr_get_payload_len(x) == 6)
				snprintf(a.mac, sizeof(a.mac),
					 "%02x:%02x:%02x:%02x:%02x:%02x", m[0],
					 m[1], m[2], m[3], m[4], m[5]);
			break;
		}
		}
	}
	struct adapter *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv)
		return MNL_CB_ERROR;
	l->v = nv;
	l->v[l->n++] = a;
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct list *l = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct adapter *a = by_index(l, ifa->ifa_index);
	const void *addr = NULL;
	const struct nlattr *x;
	if (!a)
		return MNL_CB_OK;
	mnl_attr_for_each(x, nlh, sizeof(*ifa)) {
		/* IFA_LOCAL is our address on point-to-point links, where
		 * IFA_ADDRESS is the peer's. */
		int t = mnl_attr_get_type(x);
		if (t == IFA_LOCAL || (t == IFA_ADDRESS && !addr))
			addr = mnl_attr_get_payload(x);
	}
	if (!addr)
		return MNL_CB_OK;
	struct ifaddr e = { .family = ifa->ifa_family,
			    .prefix = ifa->ifa_prefixlen };
	if (ifa->ifa_family == AF_INET) {
		uint32_t v4;
		memcpy(&v4, addr, 4);
		ipr_ipv4_format(v4, e.text, sizeof(e.text));
	} else if (ifa->ifa_family == AF_INET6) {
		ipr_ipv6_format(addr, e.text, sizeof(e.text));
	} else {
		return MNL_CB_OK;
	}
	struct ifaddr *nv = realloc(a->addrs, (a->naddrs + 1) * sizeof(*nv));
	if (!nv)
		return MNL_CB_ERROR;
	a->addrs = nv;
	a->addrs[a->naddrs++] = e;
	return MNL_CB_OK;
}

static int dump(struct mnl_socket *nl, uint16_t type, uint8_t family,
		mnl_cb_t cb, struct list *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 2];
	uint32_t seq = (uint32_t)time(NULL) + type;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	/* ifinfomsg and ifaddrmsg both start with the family */
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = family;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		int r = mnl_cb_run(buf, (size_t)n, seq,
				   mnl_socket_get_portid(nl), cb, l);
		if (r < 0)
			return -errno;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

/* What the driver says of itself (ethtool), and what kind of device it
 * is: loopback, the rtnetlink kind (veth, bridge, tun, ...), a device on
 * a bus (physical), or none of those. */
static void classify(struct adapter *a)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
		struct ifreq ifr = { 0 };
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", a->name);
		ifr.ifr_data = (void *)&di;
		if (ioctl(fd, SIOCETHTOOL, &ifr) == 0)
			snprintf(a->driver, sizeof(a->driver), "%s", di.driver);
		close(fd);
	}
	if (a->flags & IFF_LOOPBACK) {
		snprintf(a->kind, sizeof(a->kind), "loopback");
		return;
	}
	if (a->kind[0])
		return;
	char path[64];
	struct stat st;
	snprintf(path, sizeof(path), "/sys/class/net/%s/device", a->name);
	if (stat(path, &st) == 0)
		snprintf(a->kind, sizeof(a->kind), "physical");
	else
		snprintf(a->kind, sizeof(a->kind), "%s",
			 a->driver[0] ? a->driver : "other");
}

static const char *state_of(const struct adapter *a)
{
	static const char *oper[] = { "unknown", "notpresent", "down",
				      "lowerlayerdown", "testing", "dormant",
				      "up" };
	if (!(a->flags & IFF_UP))
		return "down";
	if (a->operstate == IF_OPER_UNKNOWN)
		return (a->flags & IFF_RUNNING) ? "up" : "unknown";
	return a->operstate < 7 ? oper[a->operstate] : "unknown";
}

static void print_text(const struct list *l)
{
	printf("%-4s %-16s %-8s %-6s %-9s %-10s %-17s %s\n", "IDX", "NAME",
	       "STATE", "MTU", "KIND", "DRIVER", "MAC", "ADDRESSES");
	for (size_t i = 0; i < l->n; i++) {
		const struct adapter *a = &l->v[i];
		printf("%-4u %-16s %-8s %-6u %-9s %-10s %-17s", a->index,
		       a->name, state_of(a), a->mtu, a->kind,
		       a->driver[0] ? a->driver : "-", a->mac[0] ? a->mac : "-");
		for (size_t k = 0; k < a->naddrs; k++)
			printf(" %s/%u", a->addrs[k].text, a->addrs[k].prefix);
		if (!a->naddrs)
			printf(" -");
		printf("\n");
	}
}

static void print_json(const struct list *l)
{
	printf("[");
	for (size_t i = 0; i < l->n; i++) {
		const struct adapter *a = &l->v[i];
		printf("%s\n  {\"index\": %u, \"name\": ", i ? "," : "",
		       a->index);
		tool_json_str(stdout, a->name);
		printf(", \"state\": \"%s\", \"admin_up\": %s, \"mtu\": %u, "
		       "\"kind\": ", state_of(a),
		       (a->flags & IFF_UP) ? "true" : "false", a->mtu);
		tool_json_str(stdout, a->kind);
		printf(", \"driver\": ");
		if (a->driver[0])
			tool_json_str(stdout, a->driver);
		else
			printf("null");
		printf(", \"mac\": ");
		if (a->mac[0])
			tool_json_str(stdout, a->mac);
		else
			printf("null");
		printf(", \"master\": %u, \"link\": %u, \"addresses\": [",
		       a->master, a->link);
		for (size_t k = 0; k < a->naddrs; k++)
			printf("%s{\"family\": \"%s\", \"address\": \"%s\", "
			       "\"prefix\": %u}", k ? ", " : "",
			       a->addrs[k].family == AF_INET ? "inet" : "inet6",
			       a->addrs[k].text, a->addrs[k].prefix);
		printf("]}");
	}
	printf("%s]\n", l->n ? "\n" : "");
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ipredir adapters [OPTIONS]\n"
"The network interfaces of this namespace: index (the filter's ifIdx),\n"
"name (for -i and ifName), state, MTU, kind (loopback, veth, bridge, tun,\n"
"physical, ...), driver, MAC and addresses.\n\n"
"  -i, --interface NAME  only this interface\n"
"  -j, --json            a JSON array\n"
"  -h, --help\n\n"
"Exit codes: 0 ok, 1 runtime failure, 2 usage error (also an unknown\n"
"interface name).\n");
}

int cmd_adapters(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *only = NULL;
	bool json = false;
	int c, rc = EXIT_OK;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'i': only = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default:
			tool_bad_option("adapters", c, argv, optind);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ipredir adapters: unexpected argument '%s'\n",
			argv[optind]);
		return EXIT_USAGE;
	}
	struct list l = { 0 };
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	int err = nl ? 0 : -errno;
	if (!err && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		err = -errno;
	if (!err)
		err = dump(nl, RTM_GETLINK, AF_UNSPEC, link_cb, &l);
	if (!err)
		err = dump(nl, RTM_GETADDR, AF_UNSPEC, addr_cb, &l);
	if (nl)
		mnl_socket_close(nl);
	if (err) {
		fprintf(stderr, "ipredir adapters: cannot list interfaces: %s\n",
			strerror(-err));
		rc = EXIT_FAIL;
		goto out;
	}
	if (only) {
		struct adapter *a = NULL;
		for (size_t i = 0; i < l.n && !a; i++)
			if (!strcmp(l.v[i].name, only))
				a = &l.v[i];
		if (!a) {
			fprintf(stderr, "ipredir adapters: no interface '%s' in "
				"this namespace\n", only);
			rc = EXIT_USAGE;
			goto out;
		}
		/* keep just that one, first */
		struct adapter t = l.v[0];
		l.v[0] = *a;
		*a = t;
		for (size_t i = 1; i < l.n; i++)
			free(l.v[i].addrs);
		l.n = 1;
	}
	for (size_t i = 0; i < l.n; i++)
		classify(&l.v[i]);
	if (json)
		print_json(&l);
	else
		print_text(&l);
out:
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i].addrs);
	free(l.v);
	return rc;
}
