#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# scripts/rename-abi.sh - the mechanical renames of issue 15, as a script so
# that it can run again after other branches are merged (it is idempotent:
# a second run changes nothing).
#
#  1. Library-internal functions and data move from the public prefix ipr_
#     to ipri_ ("internal"), so that neither the shared library's version
#     script nor a static-archive user sees them under the public prefix.
#  2. Public names follow one grammar, ipr_<object>_<verb>:
#       ipr_get_param            -> ipr_param_get
#       ipr_set_param            -> ipr_param_set
#       ipr_checksums_calc       -> ipr_csum_calc
#       ipr_filter_bind_priority -> ipr_filter_set_priority (now public:
#                                   the tool's `filter explain` needs it)
#     The old public names stay in the library as deprecated aliases.  Lines
#     that carry the marker IPR_DEPRECATED or "deprecated alias", and the
#     file lib/deprecated.c, are left alone so that the aliases survive.
#
# Usage: scripts/rename-abi.sh   (from anywhere; edits the tree in place)
set -euo pipefail
cd "$(dirname "$0")/.."

INTERNAL=(
	detail_clear detail_set
	filter_constval filter_fields filter_format_test filter_layer
	filter_needs_user_check filter_needs_user_check_hook filter_nfields
	filter_uses_ct
	hdr_sig heartbeat
	held_add held_del held_find held_free held_init
	inject_close inject_open
	keeper_news keeper_released keeper_start keeper_stop
	kprog_build kprog_free ktest_cost ktest_format
	nfnl_put
	nfq_close nfq_drain nfq_open nfq_recv nfq_send nfq_set_maxlen nfq_wake
	nl_bind nl_request nl_socket nl_sockopts
	now_mono
	parse_log_msg parse_queue_msg
	probe_owner_tables probe_xt_target
	proc_queue_counters proc_queue_free
	replace_ok
	rules_disable rules_encode rules_heartbeat rules_hung rules_install
	rules_queued
	table_delete tables_sweep
	# Added on branch code (lib/tool_api.h, lib/tables.c, lib/proc.c,
	# filter_analyse.c): absent here, renamed once that branch is merged.
	family_name filter_analyse hexval
	proc_nl_socket proc_pid_comm proc_queues proc_socket_pid
	table_del_batch table_name table_name_pid tables_list
	# Added with issue 11's kernel feature probes (lib/probe.c).
	feature_probe features_disabled filter_compile_kinds filter_uses_kind
)
# ipr_inject is also the name of a test program (tests/progs/ipr_inject.c),
# so that one is renamed in lib/ only.
LIB_ONLY=(inject)
PUBLIC=(
	get_param:param_get
	set_param:param_set
	checksums_calc:csum_calc
	filter_bind_priority:filter_set_priority
)
DIRS=(include lib tools tests examples fuzz python bench man)
SKIP='IPR_DEPRECATED\|deprecated alias'

expr=()
for n in "${INTERNAL[@]}"; do
	expr+=(-e "/$SKIP/!s/\\bipr_${n}\\b/ipri_${n}/g")
done
for p in "${PUBLIC[@]}"; do
	expr+=(-e "/$SKIP/!s/\\bipr_${p%%:*}\\b/ipr_${p#*:}/g")
done
lib_expr=()
for n in "${LIB_ONLY[@]}"; do
	lib_expr+=(-e "/$SKIP/!s/\\bipr_${n}\\b/ipri_${n}/g")
done

files() {
	local d
	for d in "$@"; do
		[ -d "$d" ] || continue
		find "$d" -type f \( -name '*.[ch]' -o -name '*.py' -o -name '*.sh' \
			-o -name '*.bash' -o -name '*.md' -o -name '*.[1-8]' \
			-o -name '*.map' -o -name 'run' \) \
			! -path '*/__pycache__/*' ! -name deprecated.c -print0
	done
}

files "${DIRS[@]}" | xargs -0 -r grep -lZ 'ipr_' | xargs -0 -r sed -i "${expr[@]}"
files lib | xargs -0 -r grep -lZ 'ipr_' | xargs -0 -r sed -i "${lib_expr[@]}"
