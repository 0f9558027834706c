<?php
// PHP side of the libgearman-go side-by-side benchmark (bench/run.sh): an echo
// worker with the PHP gearman extension. Serves until killed (it gives up
// after about a second of failed work() calls, so a worker whose gearmand is
// gone does not spin forever).
//
//   php bench/php/worker.php HOST PORT
error_reporting(E_ALL);

if ($argc !== 3) {
    fwrite(STDERR, "usage: php worker.php HOST PORT\n");
    exit(2);
}
[$host, $port] = [$argv[1], (int)$argv[2]];

$w = new GearmanWorker();
$w->addServer($host, $port);
$w->addFunction('echo', function (GearmanJob $job) {
    return $job->workload();
});

$failures = 0;
for (;;) {
    if ($w->work() || $w->returnCode() === GEARMAN_SUCCESS || $w->returnCode() === GEARMAN_IO_WAIT) {
        $failures = 0;
        continue;
    }
    fwrite(STDERR, "php worker: work: " . $w->error() . "\n");
    if (++$failures >= 20) {
        exit(1);
    }
    usleep(50000);
}
