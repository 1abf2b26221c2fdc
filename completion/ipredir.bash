# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for ipredir: subcommands, then each subcommand's long
# options as its --help lists them.
_ipredir()
{
	local cur=${COMP_WORDS[COMP_CWORD]}
	local cmds="passthru filter adapters monitor drop reject impair redirect stats cleanup"
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$cmds --help --version" -- "$cur"))
		return
	fi
	local sub=${COMP_WORDS[1]}
	case $sub in
	filter)
		if [ "$COMP_CWORD" -eq 2 ]; then
			COMPREPLY=($(compgen -W "check explain eval --help" -- "$cur"))
			return
		fi
		;;
	esac
	case $cur in
	-*)
		local opts
		opts=$("${COMP_WORDS[0]}" "$sub" --help 2>&1 |
			grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		;;
	@*)
		COMPREPLY=($(compgen -P @ -f -- "${cur#@}"))
		;;
	esac
}
complete -F _ipredir ipredir
