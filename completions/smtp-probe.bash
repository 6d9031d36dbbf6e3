# bash completion for smtp-probe(1). Installed as
# $(PREFIX)/share/bash-completion/completions/smtp-probe, loaded on demand by
# the bash-completion package. The option list is the one probe/cli.c accepts.

_smtp_probe()
{
	local cur prev words cword split=false
	if declare -F _init_completion >/dev/null 2>&1; then
		# -s: "--output=js" completes like "--output js".
		_init_completion -s -n : || return
	else
		# Without bash-completion's helpers: plain words, no ':' handling.
		COMPREPLY=()
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
	fi

	case $prev in
	-o|--output)
		COMPREPLY=($(compgen -W 'text json nagios prometheus html' -- "$cur"))
		return ;;
	--color)
		COMPREPLY=($(compgen -W 'auto always never' -- "$cur"))
		return ;;
	--cafile|--password-file|--serve-config|--client-cert|--client-key)
		if declare -F _filedir >/dev/null 2>&1; then _filedir; else
			COMPREPLY=($(compgen -f -- "$cur")); fi
		return ;;
	--capath)
		if declare -F _filedir >/dev/null 2>&1; then _filedir -d; else
			COMPREPLY=($(compgen -d -- "$cur")); fi
		return ;;
	--pin)
		COMPREPLY=($(compgen -W 'sha256//' -- "$cur"))
		compopt -o nospace 2>/dev/null
		return ;;
	-p|--port)
		COMPREPLY=($(compgen -W '25 465 587' -- "$cur"))
		return ;;
	-f|--targets)
		if declare -F _filedir >/dev/null 2>&1; then _filedir; else
			COMPREPLY=($(compgen -f -- "$cur")); fi
		[[ $cur == - || -z $cur ]] && COMPREPLY+=(-)
		return ;;
	--auth-mech)
		COMPREPLY=($(compgen -W 'SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN' -- "$cur"))
		return ;;
	--config)
		COMPREPLY=($(compgen -W 'curl postfix msmtp curl,postfix,msmtp' -- "$cur"))
		return ;;
	--tls-version)
		COMPREPLY=($(compgen -W '1.2 1.3' -- "$cur"))
		return ;;
	-c|--concurrency)
		COMPREPLY=($(compgen -W '1 4 16 64' -- "$cur"))
		return ;;
	--helo|--servername|--resolver|--timeout|--connect-timeout|--warn-days|--crit-days|--size-reserve|\
	--per-host|--rate|--shard|--deadline|-t|--time-limit|--warn-time|--crit-time|-H|--host|--auth|--from|--rcpt|--serve|--serve-allow|--serve-allow-net|--serve-module|--setup|--bind|--proxy)
		# A value nobody can guess: offer nothing rather than file names.
		return ;;
	esac

	$split && return

	case $cur in
	-*)
		COMPREPLY=($(compgen -W '-p --port --starttls --implicit-tls --no-tls
			--mx --all-addresses -f --targets -c --concurrency --per-host --rate --shard
			--deadline --dane --mta-sts --tls-versions --starttls-injection
			--check-tls-required --auth --password-file --auth-mech
			--allow-plaintext-auth --from --rcpt --size-check --bind --proxy --no-sni --showcerts --tls-version --client-cert --client-key --setup --config --serve --serve-allow --serve-allow-net --serve-module --serve-config -4 --ipv4 -6 --ipv6 --helo --servername --cafile --capath --pin
			--resolver --timeout --connect-timeout -o --output --json
			-v --transcript --explain --warn-days --crit-days --size-reserve
			--color -H --host -t --time-limit --warn-time --crit-time
			--perfdata-plain -h --help -V --version' -- "$cur"))
		return ;;
	esac

	# Targets: offer the URL schemes, and host names from known_hosts-style
	# sources only through bash-completion's own helper when it is there.
	COMPREPLY=($(compgen -W 'smtp:// smtps:// submission://' -- "$cur"))
	if [ ${#COMPREPLY[@]} -gt 0 ]; then
		compopt -o nospace 2>/dev/null
	elif declare -F _known_hosts_real >/dev/null 2>&1; then
		_known_hosts_real -- "$cur"
	fi
} &&
complete -F _smtp_probe smtp-probe
