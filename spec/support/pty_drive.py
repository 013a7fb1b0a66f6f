# pty_drive.py — drives `heirloom shell APP` at a pseudo-terminal for
# cli_spec: the line editor, its history, multi-line input, Ctrl-C during
# a blocked receive, Ctrl-D, and the loss of the terminal. Prints one
# "NAME value" line per check; the spec reads them.
# usage: python3 pty_drive.py HEIRLOOM APP HOME STDERR_FILE session|recall|hangup
import os, pty, select, sys, time

exe, app, home, errfile, mode = sys.argv[1:6]
pid, fd = pty.fork()
if pid == 0:
    os.environ["HOME"] = home
    err = os.open(errfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(err, 2)
    os.execv(exe, [exe, "shell", app])

out = b""
pos = 0          # read_until looks past what it matched before
closed = False

def read_until(s, t=10):
    global out, pos
    end = time.time() + t
    while True:
        at = out.find(s.encode(), pos)
        if at >= 0:
            pos = at + len(s)
            return True
        if time.time() >= end:
            return False
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                b = os.read(fd, 4096)
            except OSError:
                return False
            if not b:
                return False
            out += b

def wait_exit(t=15):
    end = time.time() + t
    while time.time() < end:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p:
            return os.waitstatus_to_exitcode(st)
        if closed:
            time.sleep(0.1)
        else:
            read_until("\x00", 0.1)
    return None

def check(name, value):
    print(name, value)
    sys.stdout.flush()

check("PROMPT", read_until("> "))
if mode == "session":
    os.write(fd, b"x = 6 * 7\r")
    read_until("> ")
    start = pos
    os.write(fd, b"x + 1\r")
    read_until("43\r\n")
    read_until("> ")
    os.write(fd, b"\x1b[A\r")          # up: the line before, again
    read_until("43\r\n")
    read_until("> ")
    check("HISTORY", out[start:].count(b"43\r\n"))
    os.write(fd, b"for i = 1, 2 do\r")
    read_until(">> ")
    os.write(fd, b"print(i * 10)\r")
    read_until(">> ")
    os.write(fd, b"end\r")
    check("MULTILINE", read_until("10\r\n20\r\n"))
    read_until("> ")
    os.write(fd, b"hl.receive()\r")
    time.sleep(0.5)
    os.write(fd, b"\x03")               # Ctrl-C: the terminal sends SIGINT
    check("PROMPT_AGAIN", read_until("> "))   # the error went to stderr
    os.write(fd, b"print('still ' .. x)\r")
    check("STATE_KEPT", read_until("still 42"))
    read_until("> ")
    os.write(fd, b"\x04")               # Ctrl-D at an empty prompt
    check("EXIT", wait_exit())
elif mode == "recall":
    os.write(fd, b"\x1b[A")            # the last line of the session before
    check("RECALLED", read_until("print('still ' .. x)"))
    os.write(fd, b"\x03")               # Ctrl-C at the prompt drops the line
    read_until("> ")
    os.write(fd, b"\x04")
    check("EXIT", wait_exit())
else:
    os.write(fd, b"hl.receive()\r")
    time.sleep(0.5)
    os.close(fd)                        # the terminal goes away
    closed = True
    check("EXIT", wait_exit())
