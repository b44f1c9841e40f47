# bash completion for haagent. Install: copy to /usr/share/bash-completion/completions/haagent
# (or source it). test/unit/docs/completions.test.ts checks it lists every command and flag.
_haagent() {
  local cur prev cmd i
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  local commands="start status maintenance switchover promote reload events init check-config import-keepalived lab help"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in -*) ;; *) cmd="${COMP_WORDS[i]}"; break ;; esac
  done
  case "$prev" in
    -c|--config|--socket|--out) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --state-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --interface|--external) COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur")); return ;;
    --role) COMPREPLY=($(compgen -W "auto master backup" -- "$cur")); return ;;
    --lb-mode) COMPREPLY=($(compgen -W "auto nftables proxy" -- "$cur")); return ;;
    --vrrp-version) COMPREPLY=($(compgen -W "2 3" -- "$cur")); return ;;
    --log-level) COMPREPLY=($(compgen -W "trace debug info warn error fatal" -- "$cur")); return ;;
    --log-format) COMPREPLY=($(compgen -W "auto json text" -- "$cur")); return ;;
  esac
  local opts
  case "$cmd" in
    "") COMPREPLY=($(compgen -W "$commands -V --version -h --help" -- "$cur")); return ;;
    start) opts="--role -c --config --interface --external --vip --vrid --priority --advert-interval --vrrp-version --peer --preempt --no-preempt --preempt-delay --name --socket --state-dir --realtime-priority --lock-memory --log-level --log-format" ;;
    status) opts="--json -c --config --socket" ;;
    maintenance) opts="--instance -c --config --socket on off" ;;
    switchover) opts="--instance -c --config --socket" ;;
    promote) opts="--force --instance -c --config --socket" ;;
    reload) opts="-c --config --socket" ;;
    events) opts="--all --type --instance -c --config --socket" ;;
    init) opts="--active-active --interface --external --vip --vrid --advert-interval --vrrp-version --out --force" ;;
    check-config) case "$cur" in -*) opts="" ;; *) COMPREPLY=($(compgen -f -- "$cur")); return ;; esac ;;
    import-keepalived) case "$cur" in -*) opts="--out" ;; *) COMPREPLY=($(compgen -f -- "$cur")); return ;; esac ;;
    lab) opts="--keep --down --postgres --etcd --advert-interval --lb-mode" ;;
    help) opts="$commands" ;;
  esac
  COMPREPLY=($(compgen -W "$opts -h --help" -- "$cur"))
}
complete -F _haagent haagent
