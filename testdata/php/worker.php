<?php
// PHP worker peer of php_test.go. Usage: php worker.php <jobs> <seconds>
//
// Serves until it has been given <jobs> jobs, then exits 0; exits 1 if that
// has not happened within <seconds>. For every job it prints
// {function, handle, unique, workload (hex), workload_size, workload_md5}; for
// a job whose function threw, also {thrown, return_code}. Functions:
//   php_echo      returns the workload unchanged
//   php_reverse   returns strrev(workload)
//   php_chatty    sendStatus(1,4), sendData('chunk-1'), sendStatus(2,4),
//                 sendWarning('warn-1'), sendData('chunk-2'), sendStatus(4,4),
//                 returns 'final:'.workload
//   php_exception sendException('php exception: '.workload), returns 'ignored'
//   php_throw     throws RuntimeException('php throw: '.workload)
require __DIR__ . '/common.php';

$jobs = (int)arg(1);
$deadline = microtime(true) + (float)arg(2);
[$host, $port] = server();

$served = 0;
$log = function (GearmanJob $job) use (&$served): void {
    $served++;
    $w = $job->workload();
    out([
        'function' => $job->functionName(),
        'handle' => $job->handle(),
        'unique' => $job->unique(),
        'workload' => bin2hex($w),
        'workload_size' => $job->workloadSize(),
        'workload_md5' => md5($w),
    ]);
};

$functions = [
    'php_echo' => fn (GearmanJob $job): string => $job->workload(),
    'php_reverse' => fn (GearmanJob $job): string => strrev($job->workload()),
    'php_chatty' => function (GearmanJob $job): string {
        $job->sendStatus(1, 4);
        $job->sendData('chunk-1');
        $job->sendStatus(2, 4);
        $job->sendWarning('warn-1');
        $job->sendData('chunk-2');
        $job->sendStatus(4, 4);
        return 'final:' . $job->workload();
    },
    'php_exception' => function (GearmanJob $job): string {
        $job->sendException('php exception: ' . $job->workload());
        return 'ignored';
    },
    'php_throw' => function (GearmanJob $job): string {
        throw new RuntimeException('php throw: ' . $job->workload());
    },
];

$w = new GearmanWorker();
$w->setTimeout(250); // wake up now and then to look at the deadline
$w->addServer($host, $port);
foreach ($functions as $name => $fn) {
    $w->addFunction($name, function (GearmanJob $job, mixed $ctx) use ($fn, $log) {
        $log($job);
        return $fn($job);
    });
}

while ($served < $jobs) {
    if (microtime(true) > $deadline) {
        fail("worker: served $served of $jobs jobs before the deadline");
    }
    try {
        $w->work(); // false on its 250 ms timeout and after failed jobs
    } catch (RuntimeException $e) { // thrown by php_throw; a PHP warning is an ErrorException and ends the script
        out(['thrown' => $e->getMessage(), 'return_code' => $w->returnCode()]);
    }
    $rc = $w->returnCode();
    if (!in_array($rc, [GEARMAN_SUCCESS, GEARMAN_TIMEOUT, GEARMAN_IO_WAIT, GEARMAN_NO_JOBS, GEARMAN_WORK_FAIL, GEARMAN_WORK_EXCEPTION], true)) {
        fail("worker: work() ended with return code $rc: " . var_export($w->error(), true));
    }
}
