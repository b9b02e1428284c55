#!/bin/bash
# Bash completion of kvctl and kvd (client/kvctl.bash-completion,
# daemon/kvd.bash-completion), driven as bash's TAB drives it: what a
# completion offers, and that it offers every flag and command --help lists.
# Plain bash; bash-completion itself is not needed.
#   completion_test.sh KVCTL_COMPLETION KVD_COMPLETION KVCTL_BIN KVD_BIN
set -u
kvctl_completion=$1 kvd_completion=$2 kvctl_bin=$3 kvd_bin=$4
# shellcheck source=/dev/null
source "$kvctl_completion"
# shellcheck source=/dev/null
source "$kvd_completion"
failures=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# What TAB at the end of LINE offers, sorted, one a line (a LINE ending in a
# space completes a new, empty word).
offers() {
  local line=$1 function
  read -r -a COMP_WORDS <<<"$line"
  [[ $line == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE=$line
  COMP_POINT=${#line}
  COMPREPLY=()
  function=$(complete -p "${COMP_WORDS[0]}" | sed -E 's/.* -F ([^ ]+) .*/\1/')
  "$function" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  ((${#COMPREPLY[@]} == 0)) || printf '%s\n' "${COMPREPLY[@]}" | sort
}

# expect LINE OFFER...: TAB after LINE offers exactly these.
expect() {
  local line=$1 got want
  shift
  got=$(offers "$line")
  want=$( (($# == 0)) || printf '%s\n' "$@" | sort)
  if [[ $got == "$want" ]]; then
    echo "ok: '$line'"
  else
    echo "FAIL: '$line' offers [${got//$'\n'/ }], expected [${want//$'\n'/ }]"
    failures=$((failures + 1))
  fi
}

expect "kvctl --k" --key
expect "kvctl --j" --json
expect "kvctl --e" --embedded
expect "kvctl g" get
expect "kvctl d" del delete
expect "kvctl " get range len append del delete trim pop expire persist ttl keys stats revision ping import watch cluster
expect "kvctl r" range revision
expect "kvctl l" len
expect "kvctl t" trim ttl
expect "kvctl p" pop persist ping
expect "kvctl e" expire
expect "kvctl --key "
expect "kvctl --key k --val "
expect "kvctl --key k --val v --if-" --if-revision --if-length
expect "kvctl --key k --val v --ttl "
expect "kvctl ttl k --" --ms --help
expect "kvctl --key k --val v --if-revision "
expect "kvctl append k v --" --if-revision --if-length --ttl --help
expect "kvctl get --" --json --help
expect "kvctl range k 0 -1 --" --json --help
expect "kvctl len --" --help
expect "kvctl trim k 0 -1 --" --help
expect "kvctl pop k --" --count --tail --wait --json --help
expect "kvctl pop --count "
expect "kvctl pop --wait 1 k --t" --tail
expect "kvctl watch jobs/ --" --from --json --help
expect "kvctl --socket /s get --j" --json
expect "kvctl cluster " status add remove
expect "kvctl cluster status --" --json --help
touch "$tmp/kvd.conf" "$tmp/kvd.sock"
expect "kvctl --socket $tmp/kvd.s" "$tmp/kvd.sock"
expect "kvd --fs" --fsync
expect "kvd --fsync " always everysec no
expect "kvd --read-lease o" on off
expect "kvd --max-line "
expect "kvd --config $tmp/kvd.c" "$tmp/kvd.conf"

# Every flag --help lists (in its options column) is offered (the scripts' lists keep up with the
# programs). $1: the completed line so far; the rest: the program's args.
every_flag_offered() {
  local line=$1 flag
  shift
  for flag in $("$@" --help | grep -oE -- '^ +(-[a-z],)?--[a-z][a-z0-9-]*' | sed 's/.*--/--/'); do
    if ! grep -qx -- "$flag" <<<"$(offers "$line $flag")"; then
      echo "FAIL: '$line $flag' is not completed, though $* --help lists it"
      failures=$((failures + 1))
    fi
  done
}
every_flag_offered kvd "$kvd_bin"
every_flag_offered kvctl "$kvctl_bin"
for command in get range len trim pop expire persist ttl keys append watch "cluster status"; do
  # shellcheck disable=SC2086  # "cluster status": two words
  every_flag_offered "kvctl $command" "$kvctl_bin" $command
done
# ...and every command its "Subcommands:" section lists.
commands=$("$kvctl_bin" --help | sed -n '/^Subcommands:/,$p' | sed -nE 's/^  ([a-z]+)[, ].*/\1/p')
[[ -n $commands ]] || { echo "FAIL: no commands found in kvctl --help"; failures=$((failures + 1)); }
for command in $commands; do
  if ! grep -qx -- "$command" <<<"$(offers "kvctl $command")"; then
    echo "FAIL: 'kvctl $command' is not completed, though kvctl --help lists it"
    failures=$((failures + 1))
  fi
done

echo "$failures failures"
((failures == 0))
