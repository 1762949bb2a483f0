// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The demo's JavaScript workload: a JSON round-trip and a recursive benchmark.
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

var records = [];
for (var i = 0; i < 20000; i++) {
  records.push({ id: i, name: 'user' + i, tags: ['a' + (i % 7), 'b' + (i % 13)],
                 score: (i * 2654435761) % 1000 / 10 });
}
var text = JSON.stringify(records);
var back = JSON.parse(text);
var total = 0;
for (var j = 0; j < back.length; j++) total += back[j].score;
print('json bytes', text.length, 'records', back.length, 'score sum', total.toFixed(1));
print('round-trip equal', JSON.stringify(back) === text);

print('fib(25) =', fib(25));

var words = {};
for (var k = 0; k < 50000; k++) {
  var w = 'w' + ((k * 7919) % 2000);
  words[w] = (words[w] || 0) + 1;
}
var keys = Object.keys(words).sort();
print('distinct words', keys.length, 'first', keys[0], words[keys[0]], 'last', keys[keys.length - 1]);
print('sorted numbers', [5, 3, 11, 1, 8].sort(function (a, b) { return a - b; }).join(','));
