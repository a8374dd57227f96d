<?php
ini_set("memory_limit", "-1");
$s = str_repeat("a", 256 * 1024 * 1024);
echo strlen($s), "\n";
