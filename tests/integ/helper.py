"""A helper server for the tests (fake SMTP, fake DNS, aiosmtpd...): started
from an argv, it prints "listening HOST PORT" as its first line; stop() ends
it by PID, and stderr() returns what it logged."""

import select
import subprocess
import tempfile


class Helper:
    def __init__(self, argv, ready_seconds=10):
        self.log = tempfile.TemporaryFile()
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log,
                                  stdin=subprocess.DEVNULL)
        self.host = self.port = None
        ready, _, _ = select.select([self.p.stdout], [], [], ready_seconds)
        line = self.p.stdout.readline().decode() if ready else ""
        if line.startswith("listening "):
            _, self.host, port = line.split()[:3]
            self.port = int(port)

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.p.stdout.close()

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")
