<?php
// PHP side of the libgearman-go side-by-side benchmark (bench/run.sh): the
// same scenarios as bench/c/gearbench.c, with the PHP gearman extension.
//
//   php bench/php/client.php HOST PORT SCENARIO N SIZE
//
// Prints one line, jobs_per_sec=<float> [drained_per_sec=<float>]:
//   W1  N sequential doNormal
//   W2  N addTask, then one runTasks
//   W3  N sequential doBackground (submit rate), then the rate until drained
//   W4  N addTaskBackground, then one runTasks (submit rate), then drained
//   W5  N sequential doNormal (use SIZE=1048576)
// The line also carries cpu_sec=<float>: this process's user+system CPU time
// over the timed part (up to "drained" where there is one).
// "Drained" polls the admin "status" command over a plain TCP socket until the
// echo function's queue (total, running jobs included) is 0; its rate is
// N / (time from the first submission to that point). Every result is checked;
// a wrong or missing one makes the script exit non-zero without a rate.
error_reporting(E_ALL);

const FUNC = 'echo';

function fail(string $msg): never {
    fwrite(STDERR, "php client: $msg\n");
    exit(1);
}

function do_one(GearmanClient $c, string $payload): void {
    $res = $c->doNormal(FUNC, $payload);
    if ($c->returnCode() !== GEARMAN_SUCCESS) {
        fail('doNormal: ' . $c->error());
    }
    if ($res !== $payload) {
        fail('doNormal: wrong result (' . strlen($res) . ' bytes for ' . strlen($payload) . ')');
    }
}

// The "total" column of the echo function in gearmand's status reply.
function admin_queue($sock): int {
    fwrite($sock, "status\r\n");
    $total = 0;
    for (;;) {
        $line = fgets($sock);
        if ($line === false) {
            fail('admin: connection closed');
        }
        $line = rtrim($line, "\r\n");
        if ($line === '.') {
            return $total;
        }
        $f = explode("\t", $line);
        if (count($f) >= 2 && $f[0] === FUNC) {
            $total = (int)$f[1];
        }
    }
}

function wait_drained(string $host, int $port): int {
    $sock = stream_socket_client("tcp://$host:$port", $errno, $errstr, 5);
    if ($sock === false) {
        fail("admin connect: $errstr");
    }
    for (;;) {
        $q = admin_queue($sock);
        $t = hrtime(true);
        if ($q === 0) {
            fclose($sock);
            return $t;
        }
        usleep(5000);
    }
}

if ($argc !== 6) {
    fwrite(STDERR, "usage: php client.php HOST PORT SCENARIO N SIZE\n");
    exit(2);
}
[$host, $port, $scenario, $n, $size] = [$argv[1], (int)$argv[2], $argv[3], (int)$argv[4], (int)$argv[5]];
if ($n < 1 || $size < 0) {
    fail('N must be >= 1 and SIZE >= 0');
}
$payload = str_repeat('x', $size);

$c = new GearmanClient();
if (!$c->addServer($host, $port)) {
    fail('addServer: ' . $c->error());
}
// Warm-up, not timed: connects, and proves the worker answers.
do_one($c, substr($payload, 0, min($size, 100)));

function cpu_sec(): float {
    $ru = getrusage();
    return $ru['ru_utime.tv_sec'] + $ru['ru_stime.tv_sec']
        + ($ru['ru_utime.tv_usec'] + $ru['ru_stime.tv_usec']) / 1e6;
}

$drain = false;
$cpu0 = cpu_sec();
$start = hrtime(true);
switch ($scenario) {
case 'W1':
case 'W5':
    for ($i = 0; $i < $n; $i++) {
        do_one($c, $payload);
    }
    $end = hrtime(true);
    break;
case 'W2':
    $completed = 0;
    $bad = 0;
    $c->setCompleteCallback(function (GearmanTask $t) use (&$completed, &$bad, $payload) {
        $completed++;
        if ($t->data() !== $payload) {
            $bad++;
        }
    });
    $c->setFailCallback(function (GearmanTask $t) use (&$bad) {
        $bad++;
    });
    for ($i = 0; $i < $n; $i++) {
        if ($c->addTask(FUNC, $payload) === false) {
            fail('addTask: ' . $c->error());
        }
    }
    if (!$c->runTasks()) {
        fail('runTasks: ' . $c->error());
    }
    $end = hrtime(true);
    if ($completed !== $n || $bad !== 0) {
        fail("W2: completed $completed of $n, $bad bad");
    }
    break;
case 'W3':
    for ($i = 0; $i < $n; $i++) {
        $c->doBackground(FUNC, $payload);
        if ($c->returnCode() !== GEARMAN_SUCCESS) {
            fail('doBackground: ' . $c->error());
        }
    }
    $end = hrtime(true);
    $drain = true;
    break;
case 'W4':
    $created = 0;
    $c->setCreatedCallback(function (GearmanTask $t) use (&$created) {
        $created++;
    });
    for ($i = 0; $i < $n; $i++) {
        if ($c->addTaskBackground(FUNC, $payload) === false) {
            fail('addTaskBackground: ' . $c->error());
        }
    }
    if (!$c->runTasks()) {
        fail('runTasks: ' . $c->error());
    }
    $end = hrtime(true);
    if ($created !== $n) {
        fail("W4: created $created of $n");
    }
    $drain = true;
    break;
default:
    fail("unknown scenario $scenario");
}

$rate = $n / (($end - $start) / 1e9);
if (!$drain) {
    printf("jobs_per_sec=%.3f cpu_sec=%.3f\n", $rate, cpu_sec() - $cpu0);
    exit(0);
}
$drained = wait_drained($host, $port);
printf("jobs_per_sec=%.3f drained_per_sec=%.3f cpu_sec=%.3f\n", $rate, $n / (($drained - $start) / 1e9), cpu_sec() - $cpu0);
