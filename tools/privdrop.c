/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* privdrop.c - `--user NAME`: once the handle is open, become that user and
 * keep only the capabilities the job still needs.  CAP_NET_ADMIN stays: the
 * kernel checks it on every nfnetlink message, verdicts included, against
 * the sending task as well as the socket's opener. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "tool.h"

int tool_drop_privileges(const char *cmd, const char *user, bool net_raw)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		fprintf(stderr, "ipredir %s: --user: no user '%s'\n", cmd, user);
		return -1;
	}
	uint64_t keep = 1ull << CAP_NET_ADMIN;
	if (net_raw)
		keep |= 1ull << CAP_NET_RAW;
	/* Nothing outside the set can come back, even through exec. */
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		if (!(keep & (1ull << c)))
			(void)prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(0, NULL) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		fprintf(stderr, "ipredir %s: --user '%s': %s\n", cmd, user,
			strerror(errno));
		return -1;
	}
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (uint32_t)keep;
	if (syscall(SYS_capset, &hdr, data) < 0 ||
	    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		fprintf(stderr, "ipredir %s: --user '%s': cannot set "
			"capabilities: %s\n", cmd, user, strerror(errno));
		return -1;
	}
	return 0;
}
