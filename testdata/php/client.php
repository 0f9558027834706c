<?php
// PHP client peer of php_test.go. Usage: php client.php <command> <args...>
//
//   do <function> <workload-hex> <unique>
//       doNormal; prints {result, return_code, workload_md5, result_md5, identical}
//       (result in hex; identical: the result is byte-for-byte the workload).
//   events <function> <workload> <context>
//       addTask with all eight callbacks set, then runTasks; prints one line per
//       callback event (see event_line in common.php), nothing else.
//   background <function> <workload> <unique>
//       doBackground; prints {handle, do_job_handle, return_code}.
//   status <job-handle> <unique>
//       prints {by_handle, by_handle_return_code, by_unique}: the arrays of
//       jobStatus and jobStatusByUniqueKey.
//   exception <function> <workload-hex>
//       addTask with the complete, fail, exception, data and warning callbacks,
//       runTasks, then doNormal of the same job; prints {events, run_tasks,
//       run_tasks_return_code, do_result, do_return_code} (data in hex).
//   dead <port>
//       a client and a worker given 127.0.0.1:<port>, where nothing listens
//       (the client's addServer without the exceptions option, so that it does
//       no I/O; the worker's, which always sends it, throws): doNormal, then
//       the worker's addServer; prints {client_error, client_return_code,
//       worker_error, worker_return_code}.
require __DIR__ . '/common.php';

function client(): GearmanClient
{
    [$host, $port] = server();
    $c = new GearmanClient();
    $c->setTimeout(10000); // never hang the Go suite
    $c->addServer($host, $port); // sends the "exceptions" option by default
    return $c;
}

switch (arg(1)) {
    case 'do':
        $workload = unhex(arg(3));
        $c = client();
        $result = $c->doNormal(arg(2), $workload, arg(4));
        out([
            'result' => bin2hex($result),
            'return_code' => $c->returnCode(),
            'workload_md5' => md5($workload),
            'result_md5' => md5($result),
            'identical' => $result === $workload,
        ]);
        break;

    case 'events':
        $c = client();
        $lines = [];
        foreach (EVENTS as $name) {
            $setter = 'set' . ucfirst($name) . 'Callback';
            $c->$setter(function (GearmanTask $t, mixed $ctx) use ($name, &$lines): void {
                $lines[] = event_line($name, $ctx, $t);
            });
        }
        $c->addTask(arg(2), arg(3), arg(4));
        if ($c->runTasks() !== true || $c->returnCode() !== GEARMAN_SUCCESS) {
            fail('runTasks failed: returnCode ' . $c->returnCode() . ' ' . var_export($c->error(), true));
        }
        foreach ($lines as $line) {
            echo $line, "\n";
        }
        break;

    case 'background':
        $c = client();
        $handle = $c->doBackground(arg(2), arg(3), arg(4));
        out(['handle' => $handle, 'do_job_handle' => $c->doJobHandle(), 'return_code' => $c->returnCode()]);
        break;

    case 'status':
        $c = client();
        $byHandle = $c->jobStatus(arg(2));
        $rc = $c->returnCode();
        $byUnique = $c->jobStatusByUniqueKey(arg(3));
        out(['by_handle' => $byHandle, 'by_handle_return_code' => $rc, 'by_unique' => $byUnique]);
        break;

    case 'exception':
        $c = client();
        $events = [];
        foreach (['data', 'warning', 'complete', 'exception', 'fail'] as $name) {
            $setter = 'set' . ucfirst($name) . 'Callback';
            $c->$setter(function (GearmanTask $t) use ($name, &$events): void {
                $events[] = ['event' => $name, 'data' => bin2hex($t->data())];
            });
        }
        $workload = unhex(arg(3));
        $c->addTask(arg(2), $workload);
        $ran = $c->runTasks();
        $runRC = $c->returnCode();
        $result = $c->doNormal(arg(2), $workload);
        out([
            'events' => $events,
            'run_tasks' => $ran,
            'run_tasks_return_code' => $runRC,
            'do_result' => bin2hex($result),
            'do_return_code' => $c->returnCode(),
        ]);
        break;

    case 'dead':
        $c = new GearmanClient();
        $c->addServer('127.0.0.1', (int) arg(2), false);
        try {
            $c->doNormal('f', 'x');
        } catch (ErrorException $e) { // the warning of the failed call
        }
        $w = new GearmanWorker();
        try { // the worker's addServer always sends the exceptions option
            $w->addServer('127.0.0.1', (int) arg(2));
        } catch (GearmanException $e) {
        }
        out([
            'client_error' => $c->error(),
            'client_return_code' => $c->returnCode(),
            'worker_error' => $w->error(),
            'worker_return_code' => $w->returnCode(),
        ]);
        break;

    default:
        fail('unknown command ' . arg(1));
}
