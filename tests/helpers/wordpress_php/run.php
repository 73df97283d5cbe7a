<?php
// Runs PHP code inside a site (tests change posts this way): php run.php 'CODE'
require __DIR__ . '/wp-load.php';
eval($argv[1]);
