<?php
// Shared by the PHP peers of php_test.go. Every script talks to the job server
// named by GEARMAN_TEST_HOST and GEARMAN_TEST_PORT (the variables of the
// extension's own tests/connect.inc) and prints its findings on stdout, one
// JSON object per line unless said otherwise. Any PHP warning, notice or
// deprecation is turned into an exception, so it ends the script with a
// non-zero exit code and the message on stderr.
declare(strict_types=1);

error_reporting(E_ALL);
set_error_handler(function (int $no, string $msg, string $file, int $line): bool {
    throw new ErrorException($msg, 0, $no, $file, $line);
});

// The eight client callbacks, in the order the extension stores them.
const EVENTS = ['workload', 'created', 'data', 'warning', 'status', 'complete', 'exception', 'fail'];

function fail(string $msg): never
{
    fwrite(STDERR, $msg . "\n");
    exit(1);
}

function server(): array
{
    $host = getenv('GEARMAN_TEST_HOST');
    $port = getenv('GEARMAN_TEST_PORT');
    if ($host === false || $port === false || !ctype_digit($port)) {
        fail('GEARMAN_TEST_HOST and GEARMAN_TEST_PORT must name the job server');
    }
    return [$host, (int)$port];
}

function out(array $record): void
{
    echo json_encode($record, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES), "\n";
}

function arg(int $i): string
{
    global $argv;
    if (!isset($argv[$i])) {
        fail("missing argument #$i; usage: see the comment at the top of " . basename($argv[0]));
    }
    return $argv[$i];
}

function unhex(string $hex): string
{
    $bin = hex2bin($hex);
    if ($bin === false) {
        fail("not hex: $hex");
    }
    return $bin;
}

function b(bool $v): string
{
    return $v ? 'true' : 'false';
}

// One callback event, formatted exactly as php_test.go's phpEventLine does.
function event_line(string $name, mixed $ctx, GearmanTask $t): string
{
    $num = $t->taskNumerator();
    $den = $t->taskDenominator();
    if (!is_int($num) || !is_int($den)) {
        fail("$name callback: taskNumerator/taskDenominator gave " . var_export([$num, $den], true));
    }
    return sprintf('%s ctx=%s known=%s running=%s %d/%d data=%s',
        $name, (string)$ctx, b($t->isKnown()), b($t->isRunning()), $num, $den, bin2hex($t->data()));
}
