#!/bin/sh
# Storj Registry team bundle: puts secrets from /run/secrets into the environment
# of the program it starts, so that no secret is in compose.yaml, in `docker
# inspect` or on a command line. Usage:
#   secrets-env.sh [VAR=FILE | FILE]... -- PROGRAM [ARG...]
# VAR=FILE exports the first line of /run/secrets/FILE as VAR; a bare FILE is
# only checked. A file that is missing, empty or still holds its placeholder
# stops the container with a message that names it.
set -e
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
    case $1 in
    *=*) var=${1%%=*} file={{secrets_dir}}/${1#*=} ;;
    *) var= file={{secrets_dir}}/$1 ;;
    esac
    val=
    if [ ! -r "$file" ] || ! { IFS= read -r val || [ -n "$val" ]; } <"$file"; then
        echo "secrets-env: $file is missing or empty: see README.md, step 1" >&2
        exit 1
    fi
    case $val in
    "" | {{placeholder}}*)
        echo "secrets-env: $file still holds its placeholder: put the real value there (README.md, step 1)" >&2
        exit 1 ;;
    esac
    [ -z "$var" ] || export "$var=$val"
    shift
done
[ "$#" -eq 0 ] || shift
exec "$@"
