# What the benchmarks share for a database server (PostgreSQL, MySQL/MariaDB): a
# database of the run's own, created empty and dropped at the end, so that no run reads
# what an earlier one left behind (dead rows that a server without autovacuum keeps,
# say); and the server's own CPU time. Sourced by bench/run.sh and bench/common.sh.
#
#   take_own_database "$URL" PREFIX       # sets SERVER_URL=URL, OWN_DB=PREFIX_<run>_<n>, DB_URL
#   drop_own_database                     # drops $OWN_DB, if any (at exit)
#   db_ticks "$URL"                       # CPU ticks of the server's processes (0 for SQLite)

# server_sql URL SQL: runs one statement on URL's server, connected to URL's database.
server_sql() {
    local url=$1 sql=$2 user password host port parts
    case $url in
        postgres://* | postgresql://*)
            command -v psql >/dev/null || apt-get install -y -qq postgresql-client >/dev/null
            psql "$url" -v ON_ERROR_STOP=1 -qAt -c "$sql" >/dev/null
            ;;
        mysql://* | mariadb://*)
            command -v mysql >/dev/null || apt-get install -y -qq mariadb-client >/dev/null
            mapfile -t parts < <(python3 -c '
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
print(u.unquote(p.username or "root"), u.unquote(p.password or ""), p.hostname or "127.0.0.1", p.port or 3306, sep="\n")' "$url")
            user=${parts[0]} password=${parts[1]} host=${parts[2]} port=${parts[3]}
            MYSQL_PWD=$password mysql -h "$host" -P "$port" -u "$user" -e "$sql"
            ;;
        *) echo "no database server in $url" >&2; return 1 ;;
    esac
}

# own_database URL NAME: creates NAME on URL's server; prints its URL (URL's query kept).
own_database() {
    local url=$1 name=$2 base query
    base=${url%%\?*}
    query=${url#"$base"}
    server_sql "$url" "CREATE DATABASE $name" || return 1
    echo "${base%/*}/$name$query"
}

drop_database() {
    case $1 in
        postgres://* | postgresql://*) server_sql "$1" "DROP DATABASE IF EXISTS $2 WITH (FORCE)" ;;
        *) server_sql "$1" "DROP DATABASE IF EXISTS $2" ;;
    esac
}

# take_own_database URL PREFIX: creates a new database on URL's server; sets SERVER_URL,
# OWN_DB (its name) and DB_URL (its URL). Needs RUN_ID.
take_own_database() {
    SERVER_URL=$1
    OWN_DB=${2}_${RUN_ID,,}_$RANDOM
    DB_URL=$(own_database "$SERVER_URL" "$OWN_DB") || { OWN_DB=""; return 1; }
}

drop_own_database() {
    [[ -z ${OWN_DB:-} ]] || drop_database "$SERVER_URL" "$OWN_DB" || echo "could not drop database $OWN_DB" >&2
}

# db_ticks URL: user + system CPU ticks of every process of URL's server on this machine.
db_ticks() {
    local total=0 pid server=()
    case $1 in
        postgres://* | postgresql://*) server=(-u postgres) ;;
        mysql://* | mariadb://*) server=(-x 'mariadbd|mysqld') ;;
        *) echo 0; return ;;
    esac
    for pid in $(pgrep "${server[@]}" || true); do
        total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$total"
}
