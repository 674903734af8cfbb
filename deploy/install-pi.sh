#!/usr/bin/env bash
# From a fresh Raspberry Pi OS Bookworm (Pi 4 or 5, 64-bit) to a running kiosk, and the site broker
# and recorder on an operator's host; safe to run again. docs/deploy.md is the technician's guide.
#
#   deploy/install-pi.sh --bundle DIR/kiosks/<machine> --secrets DIR/secrets/kiosk-<machine>.toml
#   deploy/install-pi.sh --site DIR                     # the site broker, the recorder and the console
#   deploy/install-pi.sh --sensor-node DIR/secrets/sensor-<machine>.toml   # the machine's sensor node
#   deploy/install-pi.sh --upgrade                      # this checkout as the new release; rolls back
#
# DIR is a render (`legpress-fleet broker render`). What it installs:
# - Debian packages, the `kiosk` user (video, render, input, audio) through sysusers.d;
# - the app in a virtual environment made with --system-site-packages (picamera2 comes from the OS)
#   from this checkout and deploy/constraints.txt, in /opt/legpress/releases/<version>-<stamp>,
#   with /opt/legpress/current pointing at the release in use;
# - /etc/legpress: kiosk.toml, the broker login (0600, the kiosk's), the local broker's config,
#   password file and ACL (its paths moved from the render to /etc/legpress), the site's CA, the
#   root-owned trusted keys folder, Kivy's config.ini; the systemd units and a journald bound.
#
# --root STAGE writes all of it under STAGE and nothing else: no apt, no users, no systemctl (what
# would run is printed). Owners that may not exist on the machine writing the stage are not set
# there: /etc/tmpfiles.d/legpress-{kiosk,site}.conf record every owner and mode and systemd applies
# them at boot (and /etc/sysusers.d/legpress.conf makes the users first). --dry-run prints the plan
# and writes nothing.
#
# The functions that print a file's content are called by file() through "$@", out of shellcheck's sight.
# shellcheck disable=SC2317
set -euo pipefail

SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPLOY=$SOURCE/deploy

ETC=/etc/legpress
BROKER_ETC=$ETC/mosquitto
SITE_ETC=$ETC/site
CA=$ETC/ca.crt
KIOSK_DATA=/var/lib/legpress
BROKER_DATA=/var/lib/legpress-broker
SITE_DATA=/var/lib/legpress-site-broker
RECORDER_DATA=/var/lib/legpress-recorder
CONSOLE_DATA=/var/lib/legpress-console
CONSOLE_ETC=$ETC/console
OPT=/opt/legpress
UNITS=/etc/systemd/system
# The kiosk must stay up this long after READY=1 for an upgrade to count as good.
STABLE_S=${LEGPRESS_STABLE_S:-10}
# The service manager; tests name a stand-in for systemd here (there is no PID 1 to ask in a stage).
SYSTEMCTL=${LEGPRESS_SYSTEMCTL:-}

KIOSK_PACKAGES=(mosquitto mosquitto-clients python3-venv python3-picamera2 python3-libcamera
                libsdl2-2.0-0 libsdl2-image-2.0-0 libsdl2-mixer-2.0-0 libsdl2-ttf-2.0-0
                libgl1 libgles2 libegl1 libgbm1 libdrm2 libmtdev1 fonts-dejavu-core)
SITE_PACKAGES=(mosquitto mosquitto-clients python3-venv)
# lgpio (gpiozero's pin library on a Pi 4 and 5) from the OS, i2cdetect for finding a time-of-flight sensor.
NODE_PACKAGES=(python3-venv python3-lgpio i2c-tools)
NODE_DATA=/var/lib/legpress-node

BUNDLE="" SECRETS="" SITE_DIR="" NODE_SECRETS="" ROOT="" DRY_RUN=0 UPGRADE=0
MODEL=generic-45 CAMERA=picamera2 ROTATION=0 KEYS="" INVENTORY=""

usage() {
    cat <<EOF
usage: deploy/install-pi.sh [--bundle DIR/kiosks/<machine> --secrets DIR/secrets/kiosk-<machine>.toml]
                            [--site DIR [--inventory FILE]] [--sensor-node DIR/secrets/sensor-<machine>.toml]
                            [--upgrade] [--root STAGE] [--dry-run]
                            [--machine-model ID] [--camera SPEC] [--rotation 0|90|180|270] [--keys FOLDER]

  --bundle, --secrets   install a kiosk from a render (its local broker, its login)
  --site DIR            install the site broker, the recorder and the console from the render DIR
  --inventory FILE      with --site: the inventory DIR was rendered from; the recorder takes each machine's
                        model from it (without, from what each kiosk says of itself)
  --sensor-node FILE    install the machine's sensor node (legpress-node) with its login from a render
  --upgrade             move an installed host to this checkout's release; back to the previous
                        release if the new one does not reach ready
  --root STAGE          write everything under STAGE (an SD card image, tests); run nothing
  --dry-run             print what would be done; write nothing
  --machine-model ID    the kiosk's machine model on its first install (default: generic-45)
  --camera SPEC         LEGPRESS_CAMERA on its first install (default: picamera2)
  --rotation DEGREES    the screen and touch panel turned by 0, 90, 180 or 270 (default: 0)
  --keys FOLDER         copy its <kid>.pem public keys into $ETC/trusted_keys
EOF
}

die() { echo "install-pi: $*" >&2; exit 2; }
say() { echo "install-pi: $*"; }

while [ $# -gt 0 ]; do
    case $1 in
        --bundle) BUNDLE=${2:?--bundle needs a folder}; shift 2 ;;
        --secrets) SECRETS=${2:?--secrets needs a file}; shift 2 ;;
        --site) SITE_DIR=${2:?--site needs a render folder}; shift 2 ;;
        --inventory) INVENTORY=${2:?--inventory needs a file}; shift 2 ;;
        --sensor-node) NODE_SECRETS=${2:?--sensor-node needs a secrets/sensor-<machine>.toml}; shift 2 ;;
        --root) ROOT=${2:?--root needs a folder}; shift 2 ;;
        --machine-model) MODEL=${2:?--machine-model needs an id}; shift 2 ;;
        --camera) CAMERA=${2:?--camera needs a spec}; shift 2 ;;
        --rotation) ROTATION=${2:?--rotation needs degrees}; shift 2 ;;
        --keys) KEYS=${2:?--keys needs a folder}; shift 2 ;;
        --upgrade) UPGRADE=1; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

# -- where everything goes, and how it is written ------------------------------------------------

if [ -n "$ROOT" ]; then
    case $ROOT in /*) ;; *) ROOT=$PWD/$ROOT ;; esac
    ROOT=${ROOT%/}
fi
# Staged or dry: nothing on this host but the stage may change, so no command that changes the host runs.
HOST_COMMANDS=1
if [ "$DRY_RUN" = 1 ] || [ -n "$ROOT" ]; then HOST_COMMANDS=0; fi

at() { printf '%s%s' "$ROOT" "$1"; }

# Which parts changed, so a re-run that changed nothing restarts nothing.
declare -A CHANGED=()
PART=""
# Owners and modes of one part, written into its /etc/tmpfiles.d file; RECORD=0 for what must not
# come back at boot (a release that was pruned).
OWNERS=()
RECORD=1

on_host() {
    if [ "$HOST_COMMANDS" = 1 ]; then
        echo "  run: $*"
        "$@"
    else
        echo "  would run: $*"
    fi
}

# systemd, when there is one to ask: the real one on a live install, a stand-in named by
# LEGPRESS_SYSTEMCTL (tests, also under --root), none under --dry-run or a plain --root.
can_manage() { [ "$DRY_RUN" = 0 ] && { [ -z "$ROOT" ] || [ -n "$SYSTEMCTL" ]; }; }
manage() {
    if can_manage; then
        "${SYSTEMCTL:-systemctl}" "$@"
    else
        echo "  would run: systemctl $*"
    fi
}

owned_as() {  # PATH USER GROUP: the owner is right, or it is recorded for boot (a stage)
    [ -n "$ROOT" ] || [ "$(stat -c %U:%G "$1" 2>/dev/null)" = "$2:$3" ]
}

set_owner() {  # PATH USER GROUP
    if [ -z "$ROOT" ]; then chown "$2:$3" "$1"; fi
}

changed() { CHANGED[$PART]=1; }

directory() {  # DEST MODE USER GROUP
    local dest=$1 mode=$2 user=$3 group=$4 target
    target=$(at "$dest")
    if [ "$RECORD" = 1 ]; then OWNERS+=("d $dest $mode $user $group -"); fi
    if [ -d "$target" ] && [ ! -L "$target" ] && [ "$(stat -c %a "$target")" = "${mode#0}" ] \
            && owned_as "$target" "$user" "$group"; then
        return 0
    fi
    changed
    if [ "$DRY_RUN" = 1 ]; then echo "  make $dest/ ($mode $user:$group)"; return 0; fi
    mkdir -p "$target"
    # Owner first: a mode with set-group-id (a shared folder) is set last, so no chown can clear it.
    set_owner "$target" "$user" "$group"
    chmod "$mode" "$target"
    echo "  made $dest/ ($mode $user:$group)"
}

file() {  # DEST MODE USER GROUP COMMAND...: the file holds what COMMAND prints
    local dest=$1 mode=$2 user=$3 group=$4 target tmp
    shift 4
    target=$(at "$dest")
    if [ "$RECORD" = 1 ]; then OWNERS+=("z $dest $mode $user $group -"); fi
    if [ -f "$target" ] && [ ! -L "$target" ] && "$@" | cmp -s - "$target" \
            && [ "$(stat -c %a "$target")" = "${mode#0}" ] && owned_as "$target" "$user" "$group"; then
        return 0
    fi
    changed
    if [ "$DRY_RUN" = 1 ]; then echo "  write $dest ($mode $user:$group)"; return 0; fi
    mkdir -p "$(dirname "$target")"
    tmp=$(dirname "$target")/.$(basename "$target").install-$$
    # Written aside and renamed over: a service reading it meanwhile sees the old file or the new one.
    (umask 077; "$@" > "$tmp")
    chmod "$mode" "$tmp"
    set_owner "$tmp" "$user" "$group"
    mv -f "$tmp" "$target"
    echo "  wrote $dest ($mode $user:$group)"
}

link() {  # DEST TARGET: a symbolic link (unit enablement, the current release)
    local dest=$1 to=$2 target
    target=$(at "$dest")
    if [ -L "$target" ] && [ "$(readlink "$target")" = "$to" ]; then return 0; fi
    changed
    if [ "$DRY_RUN" = 1 ]; then echo "  link $dest -> $to"; return 0; fi
    mkdir -p "$(dirname "$target")"
    ln -sfn "$to" "$target.install-$$"
    mv -Tf "$target.install-$$" "$target"
    echo "  linked $dest -> $to"
}

copy() { cat -- "$1"; }

# -- what to install ---------------------------------------------------------------------------

[ -n "$BUNDLE$SITE_DIR$NODE_SECRETS" ] || [ "$UPGRADE" = 1 ] \
    || { usage >&2; die "give --bundle and --secrets, --site, --sensor-node, or --upgrade"; }
{ [ -n "$BUNDLE" ] && [ -n "$SECRETS" ]; } || [ -z "$BUNDLE$SECRETS" ] || die "--bundle and --secrets go together"
case $ROTATION in 0|90|180|270) ;; *) die "--rotation $ROTATION: give 0, 90, 180 or 270" ;; esac
[[ $MODEL =~ ^[a-z0-9][a-z0-9-]{0,62}$ ]] || die "--machine-model $MODEL: not an id"
[[ $CAMERA =~ ^[A-Za-z0-9:/._-]+$ ]] || die "--camera $CAMERA: not a camera spec"
[ -z "$KEYS" ] || [ -d "$KEYS" ] || die "--keys $KEYS: not a folder"

render_site() {  # RENDER_DIR: the site id its render.toml names
    local manifest=$1/render.toml site
    [ -f "$manifest" ] || die "$1 is not a render (no render.toml); give a folder written by legpress-fleet broker render"
    site=$(sed -n 's/^site = "\([a-z0-9-]*\)"$/\1/p' "$manifest")
    [ -n "$site" ] || die "$manifest names no site"
    echo "$site"
}

KIOSK=0 SITE=0
if [ -n "$BUNDLE" ]; then
    KIOSK=1
    BUNDLE=$(cd "$BUNDLE" 2>/dev/null && pwd) || die "--bundle: no such folder"
    RENDER=$(cd "$BUNDLE/../.." && pwd)
    MACHINE=$(basename "$BUNDLE")
    [[ $MACHINE =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "--bundle $BUNDLE: $MACHINE is not a machine id"
    for f in mosquitto.conf passwd acl; do
        [ -f "$BUNDLE/$f" ] || die "--bundle $BUNDLE: no $f (give DIR/kiosks/<machine> of a render)"
    done
    [ -f "$RENDER/certs/ca.crt" ] || die "$RENDER/certs/ca.crt is missing: the bridge to the site needs the site's CA"
    KIOSK_SITE=$(render_site "$RENDER")
    [ -f "$SECRETS" ] || die "--secrets $SECRETS: no such file"
    # A login of another machine would connect, and be refused by this kiosk's broker at every start.
    grep -qx "username = \"kiosk-$MACHINE\"" "$SECRETS" \
        || die "--secrets $SECRETS is not the login of kiosk-$MACHINE; give DIR/secrets/kiosk-$MACHINE.toml"
fi
if [ -n "$SITE_DIR" ]; then
    SITE=1
    SITE_DIR=$(cd "$SITE_DIR" 2>/dev/null && pwd) || die "--site: no such folder"
    for f in site/mosquitto.conf site/passwd site/acl certs/ca.crt certs/site.crt certs/site.key secrets/recorder.toml \
             secrets/console.toml; do
        [ -f "$SITE_DIR/$f" ] || die "--site $SITE_DIR: no $f (give the folder legpress-fleet broker render wrote)"
    done
    SITE_ID=$(render_site "$SITE_DIR")
    if [ -n "$INVENTORY" ]; then
        [ -f "$INVENTORY" ] || die "--inventory $INVENTORY: no such file"
        INVENTORY=$(cd "$(dirname "$INVENTORY")" && pwd)/$(basename "$INVENTORY")
    fi
elif [ -n "$INVENTORY" ]; then
    die "--inventory goes with --site (the recorder reads it)"
fi
NODE=0
if [ -n "$NODE_SECRETS" ]; then
    NODE=1
    [ -f "$NODE_SECRETS" ] || die "--sensor-node $NODE_SECRETS: no such file"
    NODE_SECRETS=$(cd "$(dirname "$NODE_SECRETS")" && pwd)/$(basename "$NODE_SECRETS")
    NODE_MACHINE=$(sed -n 's/^username = "sensor-\([a-z0-9][a-z0-9-]*\)"$/\1/p' "$NODE_SECRETS")
    [ -n "$NODE_MACHINE" ] \
        || die "--sensor-node $NODE_SECRETS is not a sensor node's login; give DIR/secrets/sensor-<machine>.toml"
    NODE_RENDER=$(cd "$(dirname "$NODE_SECRETS")/.." && pwd)
    NODE_SITE=$(render_site "$NODE_RENDER")
fi
if [ "$UPGRADE" = 1 ]; then
    [ -L "$(at $OPT/current)" ] || die "--upgrade: nothing installed under ${ROOT:-/} ($OPT/current is missing); install first"
fi
# What an earlier run installed stays installed (one host may be a kiosk and the site's host).
[ -f "$(at $UNITS/legpress-kiosk.service)" ] && KIOSK_INSTALLED=1 || KIOSK_INSTALLED=0
[ -f "$(at $UNITS/legpress-recorder.service)" ] && SITE_INSTALLED=1 || SITE_INSTALLED=0
[ -f "$(at $UNITS/legpress-node.service)" ] && NODE_INSTALLED=1 || NODE_INSTALLED=0
if [ "$KIOSK" = 1 ] || [ "$KIOSK_INSTALLED" = 1 ]; then KIOSK_HOST=1; else KIOSK_HOST=0; fi
if [ "$SITE" = 1 ] || [ "$SITE_INSTALLED" = 1 ]; then SITE_HOST=1; else SITE_HOST=0; fi
if [ "$NODE" = 1 ] || [ "$NODE_INSTALLED" = 1 ]; then NODE_HOST=1; else NODE_HOST=0; fi

VERSION=$(sed -n 's/^VERSION = "\(.*\)"$/\1/p' "$SOURCE/kiosk/contract/version.py")
[ -n "$VERSION" ] || die "$SOURCE/kiosk/contract/version.py has no VERSION"
COMMIT=$(git -C "$SOURCE" rev-parse --short HEAD 2>/dev/null || echo unknown)

what=()
[ "$KIOSK" = 1 ] && what+=("kiosk $MACHINE of site $KIOSK_SITE")
[ "$SITE" = 1 ] && what+=("site broker, recorder and console of site $SITE_ID")
[ "$NODE" = 1 ] && what+=("sensor node of $NODE_MACHINE of site $NODE_SITE")
[ "$UPGRADE" = 1 ] && what+=("upgrade to $VERSION ($COMMIT)")
mode="into ${ROOT:-/}"
[ "$DRY_RUN" = 1 ] && mode="$mode, dry run: nothing is written"
say "$(IFS=';'; echo "${what[*]}") $mode"

# -- Debian packages and users -----------------------------------------------------------------

packages=()
[ "$KIOSK_HOST" = 1 ] && packages+=("${KIOSK_PACKAGES[@]}")
[ "$SITE_HOST" = 1 ] && packages+=("${SITE_PACKAGES[@]}")
[ "$NODE_HOST" = 1 ] && packages+=("${NODE_PACKAGES[@]}")
# Also on an upgrade: a new release may need a package the last one did not.
say "packages"
missing=()
for pkg in $(printf '%s\n' "${packages[@]}" | sort -u); do
    # In a stage the packages are the image's business (its own apt run); all are listed.
    if [ -n "$ROOT" ] || ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    on_host apt-get update -qq
    on_host env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

sysusers() {
    echo "# Written by deploy/install-pi.sh: the users the leg press services run as."
    if [ "$KIOSK_HOST" = 1 ]; then
        echo 'u kiosk - "Leg press kiosk" /var/lib/legpress /usr/sbin/nologin'
        # The screen (video, render), the touch panel and wedge scanners (input), the tones (audio).
        for group in video render input audio; do echo "m kiosk $group"; done
    fi
    if [ "$SITE_HOST" = 1 ]; then
        echo 'u legpress-recorder - "Leg press recorder" /var/lib/legpress-recorder /usr/sbin/nologin'
        echo 'u legpress-console - "Leg press front-desk console" /var/lib/legpress-console /usr/sbin/nologin'
        # The recorder's store is shared read only through this group: the console reads the reports from it.
        echo 'g legpress-records -'
        echo 'm legpress-console legpress-records'
        # The recorder is a member so it can give a store an earlier release made the group (upgrades).
        echo 'm legpress-recorder legpress-records'
    fi
    if [ "$NODE_HOST" = 1 ]; then
        echo 'u legpress-node - "Leg press sensor node" /var/lib/legpress-node /usr/sbin/nologin'
        # The pins (gpio) and the time-of-flight sensor's bus (i2c); Raspberry Pi OS has both groups.
        for group in gpio i2c; do echo "m legpress-node $group"; done
    fi
    # Debian's mosquitto package makes this user too; named here so a stage's owners exist at first boot.
    echo 'u mosquitto - "mosquitto daemon" /var/lib/mosquitto /usr/sbin/nologin'
}

PART=users
say "users"
file /etc/sysusers.d/legpress.conf 0644 root root sysusers
if [ -n "${CHANGED[users]:-}" ]; then on_host systemd-sysusers /etc/sysusers.d/legpress.conf; fi

# -- the release: this checkout in its own virtual environment ---------------------------------

PART=release
current=$(readlink "$(at $OPT/current)" 2>/dev/null || true)
extras=""
# The sensor node's lgpio comes from the OS (python3-lgpio, seen through --system-site-packages), not
# from the `pi` extra, which would build it from source on the Pi.
[ "$KIOSK_HOST" = 1 ] && extras="[ui]"
release_file() {
    echo "version = \"$VERSION\""
    echo "commit = \"$COMMIT\""
    echo "source = \"$SOURCE\""
}

build_release() {  # NAME
    local rel=$OPT/releases/$1
    RECORD=0
    directory $OPT 0755 root root
    directory $OPT/releases 0755 root root
    directory "$rel" 0755 root root
    file "$rel/RELEASE" 0644 root root release_file
    # The cue sounds and spoken cues are the design's assets, not part of the Python package.
    local sound
    while IFS= read -r sound; do
        file "$rel/assets/sounds/${sound#"$SOURCE/assets/sounds/"}" 0644 root root copy "$sound"
    done < <(find "$SOURCE/assets/sounds" -type f -name '*.wav' | sort)
    RECORD=1
    if [ -n "$ROOT" ]; then
        # A venv is bound to the interpreter and path it is made with: it is built on the Pi itself.
        echo "  not run with --root (on the Pi: run this installer there, or in a chroot of the image):"
        echo "    python3 -m venv --system-site-packages $rel/venv"
        echo "    $rel/venv/bin/pip install -c $SOURCE/deploy/constraints.txt $SOURCE$extras"
        return 0
    fi
    on_host python3 -m venv --system-site-packages "$rel/venv"
    on_host "$rel/venv/bin/python" -m pip install --quiet --upgrade pip
    on_host "$rel/venv/bin/python" -m pip install --quiet -c "$SOURCE/deploy/constraints.txt" "$SOURCE$extras"
}

say "release"
NEW_RELEASE=""
if [ -z "$current" ] || [ "$UPGRADE" = 1 ]; then
    NEW_RELEASE=$VERSION-$(date -u +%Y%m%dT%H%M%SZ)
    # Two upgrades within one second would share a name; the second waits for its own.
    while [ -e "$(at "$OPT/releases/$NEW_RELEASE")" ]; do
        sleep 1
        NEW_RELEASE=$VERSION-$(date -u +%Y%m%dT%H%M%SZ)
    done
    build_release "$NEW_RELEASE"
else
    echo "  keeping release $(basename "$current") (--upgrade moves to this checkout)"
fi

# -- the kiosk ---------------------------------------------------------------------------------

kiosk_toml() {
    cat <<EOF
# The kiosk's settings (kiosk/core/settings.py; any LEGPRESS_* setting may go here). Written by
# deploy/install-pi.sh on the first install and kept after: edit it, then restart legpress-kiosk.
# The data folder and the trusted keys are set in legpress-kiosk.service, with its sandbox.
site = "$KIOSK_SITE"
machine = "$MACHINE"
machine_model = "$MODEL"
camera = "$CAMERA"
broker_secrets = "$ETC/broker-secrets.toml"
EOF
}

# The render names its own folders; on the Pi every path is under /etc/legpress and /var/lib.
kiosk_broker_conf() {
    sed -E -e "s|^# Start it with: .*|# Start it with: systemctl start legpress-broker (installed by deploy/install-pi.sh)|" \
        -e "s|^user .*|user mosquitto|" \
        -e "s|^password_file .*|password_file $BROKER_ETC/passwd|" \
        -e "s|^acl_file .*|acl_file $BROKER_ETC/acl|" \
        -e "s|^persistence_location .*|persistence_location $BROKER_DATA/|" \
        -e "s|^bridge_cafile .*|bridge_cafile $CA|" \
        "$BUNDLE/mosquitto.conf"
}

kiosk_secrets() { sed -E "s|^ca = .*|ca = \"$CA\"|" "$SECRETS"; }

kivy_config() { sed "s/@ROTATION@/$ROTATION/g" "$DEPLOY/kivy-config.ini"; }

consoleblank() {  # the kernel command line, with the console never blanking under the kiosk
    local line
    line=$(head -n 1 "$(at /boot/firmware/cmdline.txt)")
    case " $line " in *" consoleblank=0 "*) echo "$line" ;; *) echo "$line consoleblank=0" ;; esac
}

tmpfiles() {
    echo "# Written by deploy/install-pi.sh: the owner and mode of everything it installed, applied at"
    echo "# every boot (systemd-tmpfiles), so a staged image gets them and a hand-made change is undone."
    printf '%s\n' "${OWNERS[@]}"
}

owners() {  # TMPFILES_CONF: what this part recorded, then a fresh list for the next part
    local PART=owners
    RECORD=0
    file "$1" 0644 root root tmpfiles
    RECORD=1
    OWNERS=()
}

if [ "$KIOSK" = 1 ]; then
    OWNERS=()
    PART=kiosk
    say "kiosk $MACHINE"
    directory $ETC 0755 root root
    existing=$(at $ETC/kiosk.toml)
    if [ -f "$existing" ]; then
        grep -qx "machine = \"$MACHINE\"" "$existing" \
            || die "$ETC/kiosk.toml is for another machine; remove it to make this Pi kiosk $MACHINE"
        echo "  keeping $ETC/kiosk.toml (settings are kept across installs and upgrades)"
        OWNERS+=("z $ETC/kiosk.toml 0640 root kiosk -")
    else
        file $ETC/kiosk.toml 0640 root kiosk kiosk_toml
    fi
    file $ETC/broker-secrets.toml 0600 kiosk kiosk kiosk_secrets
    # The CA is public: the kiosk, its broker's bridge and any tool may read it.
    file $CA 0644 root root copy "$RENDER/certs/ca.crt"
    # Root-owned: the kiosk reads the keys and can never add one (docs/security.md).
    directory $ETC/trusted_keys 0755 root root
    if [ -n "$KEYS" ]; then
        for key in "$KEYS"/*.pem; do
            if [ -f "$key" ]; then file "$ETC/trusted_keys/$(basename "$key")" 0644 root root copy "$key"; fi
        done
    fi
    directory $ETC/kivy 0755 root root
    # Made here so Kivy, finding them, creates nothing in its read-only home.
    directory $ETC/kivy/mods 0755 root root
    directory $ETC/kivy/icon 0755 root root
    file $ETC/kivy/config.ini 0644 root root kivy_config
    directory $KIOSK_DATA 0700 kiosk kiosk
    if [ -f "$(at /boot/firmware/cmdline.txt)" ]; then
        # On the FAT boot partition modes and owners are the mount's: nothing for tmpfiles to keep.
        RECORD=0
        file /boot/firmware/cmdline.txt 0755 root root consoleblank
        RECORD=1
    fi

    PART=broker
    say "kiosk broker"
    directory $BROKER_ETC 0750 root mosquitto
    # mosquitto reads its config again as `mosquitto` on SIGHUP; it holds the bridge's password.
    file $BROKER_ETC/mosquitto.conf 0600 mosquitto mosquitto kiosk_broker_conf
    directory $BROKER_DATA 0700 mosquitto mosquitto
    # A new password or ACL is a reload (SIGHUP), which keeps the bridge and the kiosk connected.
    PART=broker_logins
    file $BROKER_ETC/passwd 0600 mosquitto mosquitto copy "$BUNDLE/passwd"
    file $BROKER_ETC/acl 0600 mosquitto mosquitto copy "$BUNDLE/acl"
    owners /etc/tmpfiles.d/legpress-kiosk.conf
fi

# -- the site broker and the recorder ------------------------------------------------------------

site_broker_conf() {
    sed -E -e "s|^# Start it with: .*|# Start it with: systemctl start legpress-site-broker (installed by deploy/install-pi.sh)|" \
        -e "s|^user .*|user mosquitto|" \
        -e "s|^password_file .*|password_file $SITE_ETC/passwd|" \
        -e "s|^acl_file .*|acl_file $SITE_ETC/acl|" \
        -e "s|^persistence_location .*|persistence_location $SITE_DATA/|" \
        -e "s|^certfile .*|certfile $SITE_ETC/site.crt|" \
        -e "s|^keyfile .*|keyfile $SITE_ETC/site.key|" \
        -e "s|^bridge_cafile .*|bridge_cafile $SITE_ETC/upstream-ca.crt|" \
        "$SITE_DIR/site/mosquitto.conf"
}

recorder_secrets() { sed -E "s|^ca = .*|ca = \"$CA\"|" "$SITE_DIR/secrets/recorder.toml"; }

recorder_env() {
    echo "# The recorder's settings (legpress-fleet record), written by deploy/install-pi.sh --site."
    echo "LEGPRESS_SITE=$SITE_ID"
    echo "LEGPRESS_BROKER_SECRETS=$ETC/recorder.toml"
    echo "LEGPRESS_STORE=sqlite:$RECORDER_DATA/records.sqlite3"
    if [ -n "$INVENTORY" ]; then
        echo "# Each machine's model, for the profile desk: a kiosk's own info is what a stolen kiosk login writes."
        echo "LEGPRESS_INVENTORY=$ETC/inventory.toml"
    fi
}

console_secrets() { sed -E "s|^ca = .*|ca = \"$CA\"|" "$SITE_DIR/secrets/console.toml"; }

console_env() {
    echo "# The front-desk console's settings (legpress-fleet console serve), written by deploy/install-pi.sh"
    echo "# --site on the first install and kept after: edit it, then systemctl restart legpress-console."
    echo "LEGPRESS_SITE=$SITE_ID"
    echo "LEGPRESS_BROKER_SECRETS=$ETC/console.toml"
    echo "# HTTPS with the site certificate, on every interface: the front desk's tablet reaches it on the LAN."
    echo "LEGPRESS_CONSOLE_LISTEN=0.0.0.0:8443"
    echo "# More options, e.g. --signing-key $CONSOLE_ETC/keys/<kid>.key (cards) or --inventory FILE (tiles)."
    echo "# The reports page reads the recorder's store read only (group legpress-records)."
    echo "LEGPRESS_CONSOLE_EXTRA=--store sqlite:$RECORDER_DATA/records.sqlite3"
}

if [ "$SITE" = 1 ]; then
    OWNERS=()
    PART=site
    say "site broker of $SITE_ID"
    directory $ETC 0755 root root
    file $CA 0644 root root copy "$SITE_DIR/certs/ca.crt"
    directory $SITE_ETC 0750 root mosquitto
    file $SITE_ETC/mosquitto.conf 0600 mosquitto mosquitto site_broker_conf
    file $SITE_ETC/site.crt 0644 root root copy "$SITE_DIR/certs/site.crt"
    file $SITE_ETC/site.key 0600 mosquitto mosquitto copy "$SITE_DIR/certs/site.key"
    if [ -f "$SITE_DIR/certs/upstream-ca.crt" ]; then
        file $SITE_ETC/upstream-ca.crt 0644 root root copy "$SITE_DIR/certs/upstream-ca.crt"
    fi
    directory $SITE_DATA 0700 mosquitto mosquitto
    # The development CA's key signs certificates: it stays with the render, never on a broker.
    # A rotated password (a replaced kiosk) is a reload: the old login is thrown off, nobody else.
    PART=site_logins
    file $SITE_ETC/passwd 0600 mosquitto mosquitto copy "$SITE_DIR/site/passwd"
    file $SITE_ETC/acl 0600 mosquitto mosquitto copy "$SITE_DIR/site/acl"

    PART=recorder
    say "recorder"
    file $ETC/recorder.toml 0600 legpress-recorder legpress-recorder recorder_secrets
    if [ -n "$INVENTORY" ]; then
        file $ETC/inventory.toml 0644 root root copy "$INVENTORY"
    fi
    file $ETC/recorder.env 0640 root legpress-recorder recorder_env
    # Set-group-id and group-readable: the store and its -wal/-shm take the group legpress-records and mode
    # 0640 (kiosk/host/private_files.py), so the console (a member) reads them and cannot write or create.
    directory $RECORDER_DATA 2750 legpress-recorder legpress-records

    PART=console
    say "console"
    file $ETC/console.toml 0600 legpress-console legpress-console console_secrets
    if [ -f "$(at $ETC/console.env)" ]; then
        echo "  keeping $ETC/console.env (settings are kept across installs and upgrades)"
        OWNERS+=("z $ETC/console.env 0640 root legpress-console -")
    else
        file $ETC/console.env 0640 root legpress-console console_env
    fi
    directory $CONSOLE_ETC 0750 root legpress-console
    file $CONSOLE_ETC/site.crt 0644 root root copy "$SITE_DIR/certs/site.crt"
    file $CONSOLE_ETC/site.key 0600 legpress-console legpress-console copy "$SITE_DIR/certs/site.key"
    directory $CONSOLE_DATA 0700 legpress-console legpress-console
    owners /etc/tmpfiles.d/legpress-site.conf
fi

# -- the sensor node ------------------------------------------------------------------------------

node_toml() {
    cat <<EOF
# The sensor node's settings (kiosk/node/settings.py, docs/sensor-node.md; any LEGPRESS_NODE_*
# setting may go here). Written by deploy/install-pi.sh --sensor-node on the first install and kept
# after: set the sled sensor, its calibration and the pad pins, then restart legpress-node.
site = "$NODE_SITE"
machine = "$NODE_MACHINE"
broker_secrets = "$ETC/node-secrets.toml"

[sled]
kind = "encoder"
counts_per_mm = 1.27
EOF
}

node_secrets() { sed -E "s|^ca = .*|ca = \"$CA\"|" "$NODE_SECRETS"; }

if [ "$NODE" = 1 ]; then
    OWNERS=()
    PART=node
    say "sensor node of $NODE_MACHINE"
    directory $ETC 0755 root root
    existing=$(at $ETC/node.toml)
    if [ -f "$existing" ]; then
        grep -qx "machine = \"$NODE_MACHINE\"" "$existing" \
            || die "$ETC/node.toml is for another machine; remove it to make this Pi the sensor node of $NODE_MACHINE"
        echo "  keeping $ETC/node.toml (settings are kept across installs and upgrades)"
        OWNERS+=("z $ETC/node.toml 0640 root legpress-node -")
    else
        file $ETC/node.toml 0640 root legpress-node node_toml
    fi
    file $ETC/node-secrets.toml 0600 legpress-node legpress-node node_secrets
    if [ -f "$NODE_RENDER/certs/ca.crt" ]; then file $CA 0644 root root copy "$NODE_RENDER/certs/ca.crt"; fi
    directory $NODE_DATA 0700 legpress-node legpress-node
    owners /etc/tmpfiles.d/legpress-node.conf
fi

# -- systemd: units, journald, owners at boot ------------------------------------------------------

PART=units
say "systemd"
units=()
[ "$KIOSK_HOST" = 1 ] && units+=(legpress-broker.service legpress-kiosk.service)
[ "$SITE_HOST" = 1 ] && units+=(legpress-site-broker.service legpress-recorder.service legpress-console.service)
[ "$NODE_HOST" = 1 ] && units+=(legpress-node.service)
for unit in "${units[@]}"; do
    file "$UNITS/$unit" 0644 root root copy "$DEPLOY/$unit"
    # What `systemctl enable` does for WantedBy=multi-user.target, the same live and in a stage.
    link "$UNITS/multi-user.target.wants/$unit" "$UNITS/$unit"
done
# Debian's own broker would take 127.0.0.1:1883 from ours.
link $UNITS/mosquitto.service /dev/null
if [ "$KIOSK_HOST" = 1 ]; then
    # A login prompt on tty1 would fight the kiosk for the screen at every boot (tty2 and ssh stay).
    link $UNITS/getty@tty1.service /dev/null
fi
PART=journald
file /etc/systemd/journald.conf.d/legpress.conf 0644 root root copy "$DEPLOY/journald-legpress.conf"


# -- start, check, and roll back ------------------------------------------------------------------

if [ -n "${CHANGED[journald]:-}" ]; then on_host systemctl restart systemd-journald.service; fi
manage daemon-reload
if [ -n "${CHANGED[units]:-}" ]; then
    manage stop mosquitto.service || true
    if [ "$KIOSK_HOST" = 1 ]; then manage stop getty@tty1.service || true; fi
fi

healthy() {  # UNIT: restarted, it comes up (Type=notify: READY=1, the broker link is up) and stays up
    if ! manage restart "$1"; then return 1; fi
    sleep "$STABLE_S"
    manage is-active --quiet "$1"
}

restart_changed() {
    # mosquitto 2.0 reloads passwords and ACLs on SIGHUP (and drops clients whose password no longer
    # matches) but not listeners, certificates or bridges: those need a restart.
    if [ -n "${CHANGED[broker]:-}" ]; then manage restart legpress-broker.service
    elif [ -n "${CHANGED[broker_logins]:-}" ]; then manage reload-or-restart legpress-broker.service; fi
    if [ -n "${CHANGED[site]:-}" ]; then manage restart legpress-site-broker.service
    elif [ -n "${CHANGED[site_logins]:-}" ]; then manage reload-or-restart legpress-site-broker.service; fi
}

prune() {  # keep the release in use and the one before it
    local keep_a=$1 keep_b=$2 rel
    for rel in "$(at $OPT/releases)"/*; do
        [ -d "$rel" ] || continue
        case $(basename "$rel") in "$keep_a"|"$keep_b") ;; *)
            if [ "$DRY_RUN" = 1 ]; then echo "  remove old release $(basename "$rel")"
            else rm -rf -- "$rel"; echo "  removed old release $(basename "$rel")"; fi ;;
        esac
    done
}

app_units=()
[ "$KIOSK_HOST" = 1 ] && app_units+=(legpress-kiosk.service)
[ "$SITE_HOST" = 1 ] && app_units+=(legpress-recorder.service legpress-console.service)
[ "$NODE_HOST" = 1 ] && app_units+=(legpress-node.service)

if [ -n "$NEW_RELEASE" ]; then
    PART=release
    link $OPT/current "releases/$NEW_RELEASE"
fi
restart_changed
if ! can_manage; then
    say "done; not started ($( [ "$DRY_RUN" = 1 ] && echo "--dry-run" || echo "--root" )): on the Pi the services start at boot"
    exit 0
fi
if [ "$UPGRADE" = 0 ] && [ -z "${CHANGED[release]:-}${CHANGED[kiosk]:-}${CHANGED[recorder]:-}${CHANGED[console]:-}${CHANGED[node]:-}${CHANGED[units]:-}" ]; then
    for unit in "${app_units[@]}"; do manage start "$unit"; done
    say "done; nothing changed"
    exit 0
fi
failed=""
for unit in "${app_units[@]}"; do
    say "starting $unit"
    healthy "$unit" || { failed=$unit; break; }
done
if [ -z "$failed" ]; then
    [ -n "$NEW_RELEASE" ] && [ -n "$current" ] && prune "$NEW_RELEASE" "$(basename "$current")"
    say "done; running release $(basename "$(readlink "$(at $OPT/current)")")"
    exit 0
fi
if [ "$UPGRADE" = 0 ] || [ -z "$current" ]; then
    say "$failed did not reach ready; see: journalctl -u $failed -b"
    exit 1
fi
say "$failed did not reach ready on release $NEW_RELEASE; going back to $(basename "$current")"
PART=release
link $OPT/current "$current"
manage daemon-reload
for unit in "${app_units[@]}"; do
    healthy "$unit" || { say "$unit does not reach ready on $(basename "$current") either; see: journalctl -u $unit -b"; exit 1; }
done
rm -rf -- "$(at "$OPT/releases/$NEW_RELEASE")"
say "rolled back to release $(basename "$current"); the failed release is removed, its logs are in journalctl -u $failed"
exit 1
