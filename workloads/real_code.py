"""Functions as public repositories write them, rewritten here for the tracer's depth table
(issue 23): sorts, a sorting network, a heap, a search, dynamic programs and greedy scans
that choose with ``if``. Each follows the structure of the function named in its docstring
(TheAlgorithms/Python, MIT licence; the statements that decide, store and swap are kept as
written there, the doctests and input handling left out). Each takes a list of numbers (the
traced inputs) and returns what the original returns.

``python -m serialscale analyze workloads/real_code.py:run_bitonic --control scoped``
"""

from __future__ import annotations

from typing import Any

import serialscale as ss


def bubble_sort(collection: list[Any]) -> list[Any]:
    """sorts/bubble_sort.py (``bubble_sort_iterative``): passes of neighbour swaps, stopping
    after a pass without one."""
    length = len(collection)
    for i in reversed(range(length)):
        swapped = False
        for j in range(i):
            if collection[j] > collection[j + 1]:
                swapped = True
                collection[j], collection[j + 1] = collection[j + 1], collection[j]
        if not swapped:
            break
    return collection


def insertion_sort(collection: list[Any]) -> list[Any]:
    """sorts/insertion_sort.py: shift larger items right, then drop the value in."""
    for insert_index in range(1, len(collection)):
        insert_value = collection[insert_index]
        while insert_index > 0 and insert_value < collection[insert_index - 1]:
            collection[insert_index] = collection[insert_index - 1]
            insert_index -= 1
        collection[insert_index] = insert_value
    return collection


def cocktail_shaker_sort(arr: list[Any]) -> list[Any]:
    """sorts/cocktail_shaker_sort.py: a pass up and a pass down per round."""
    start, end = 0, len(arr) - 1
    while start < end:
        swapped = False
        for i in range(start, end):
            if arr[i] > arr[i + 1]:
                arr[i], arr[i + 1] = arr[i + 1], arr[i]
                swapped = True
        if not swapped:
            break
        end -= 1
        for i in range(end, start, -1):
            if arr[i] < arr[i - 1]:
                arr[i], arr[i - 1] = arr[i - 1], arr[i]
                swapped = True
        if not swapped:
            break
        start += 1
    return arr


def odd_even_sort(input_list: list[Any]) -> list[Any]:
    """sorts/odd_even_transposition_single_threaded.py: n rounds of compare-exchanges,
    even pairs then odd pairs alternately."""
    arr_size = len(input_list)
    for _ in range(arr_size):
        for i in range(_ % 2, arr_size - 1, 2):
            if input_list[i + 1] < input_list[i]:
                input_list[i], input_list[i + 1] = input_list[i + 1], input_list[i]
    return input_list


def _comp_and_swap(a: list[Any], i: int, j: int, dire: int) -> None:
    if (dire == 1 and a[i] > a[j]) or (dire == 0 and a[i] < a[j]):
        a[i], a[j] = a[j], a[i]


def _bitonic_merge(a: list[Any], low: int, cnt: int, dire: int) -> None:
    if cnt > 1:
        k = int(cnt / 2)
        for i in range(low, low + k):
            _comp_and_swap(a, i, i + k, dire)
        _bitonic_merge(a, low, k, dire)
        _bitonic_merge(a, low + k, k, dire)


def _bitonic(a: list[Any], low: int, cnt: int, dire: int) -> None:
    if cnt > 1:
        k = int(cnt / 2)
        _bitonic(a, low, k, 1)
        _bitonic(a, low + k, k, 0)
        _bitonic_merge(a, low, cnt, dire)


def bitonic_sort(a: list[Any]) -> list[Any]:
    """sorts/bitonic_sort.py: the sorting network written as recursion, its
    compare-and-swap a helper with an ``if``; n a power of two."""
    _bitonic(a, 0, len(a), 1)
    return a


def _heapify(unsorted: list[Any], index: int, heap_size: int) -> None:
    largest = index
    left_index = 2 * index + 1
    right_index = 2 * index + 2
    if left_index < heap_size and unsorted[left_index] > unsorted[largest]:
        largest = left_index
    if right_index < heap_size and unsorted[right_index] > unsorted[largest]:
        largest = right_index
    if largest != index:
        unsorted[largest], unsorted[index] = unsorted[index], unsorted[largest]
        _heapify(unsorted, largest, heap_size)


def heap_sort(unsorted: list[Any]) -> list[Any]:
    """sorts/heap_sort.py: build the heap bottom-up, then move the root out n - 1 times;
    the sift a recursive helper that swaps."""
    n = len(unsorted)
    for i in range(n // 2 - 1, -1, -1):
        _heapify(unsorted, i, n)
    for i in range(n - 1, 0, -1):
        unsorted[0], unsorted[i] = unsorted[i], unsorted[0]
        _heapify(unsorted, 0, i)
    return unsorted


def binary_search(sorted_collection: list[Any], item: Any) -> int:
    """searches/binary_search.py: the probe's position moved by the comparisons."""
    left = 0
    right = len(sorted_collection) - 1
    while left <= right:
        midpoint = left + (right - left) // 2
        current_item = sorted_collection[midpoint]
        if current_item == item:
            return midpoint
        elif item < current_item:
            right = midpoint - 1
        else:
            left = midpoint + 1
    return -1


def max_subarray_sum(arr: list[Any]) -> Any:
    """dynamic_programming/max_subarray_sum.py (Kadane), written with ``if``: the running
    sum restarts at 0 when it drops below, the best kept when beaten."""
    max_sum = arr[0]
    curr_sum = 0
    for num in arr:
        curr_sum = curr_sum + num
        if curr_sum > max_sum:
            max_sum = curr_sum
        if curr_sum < 0:
            curr_sum = 0
    return max_sum


def longest_increasing_subsequence_length(arr: list[Any]) -> int:
    """dynamic_programming/longest_increasing_subsequence_o(nlogn).py's quadratic cousin:
    ``lis[i]`` raised by every earlier ``j`` that extends."""
    lis = [1] * len(arr)
    for i in range(1, len(arr)):
        for j in range(i):
            if arr[j] < arr[i] and lis[i] < lis[j] + 1:
                lis[i] = lis[j] + 1
    best = 0
    for length in lis:
        if length > best:
            best = length
    return best


def knapsack(capacity: int, weights: list[int], values: list[Any]) -> Any:
    """dynamic_programming/knapsack.py (``knapsack``, bottom-up table): take item i or not,
    the choice an ``if`` on traced values."""
    n = len(weights)
    dp = [[0] * (capacity + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for w in range(1, capacity + 1):
            if weights[i - 1] <= w:
                take = values[i - 1] + dp[i - 1][w - weights[i - 1]]
                if take > dp[i - 1][w]:
                    dp[i][w] = take
                else:
                    dp[i][w] = dp[i - 1][w]
            else:
                dp[i][w] = dp[i - 1][w]
    return dp[n][capacity]


def activity_selection(start: list[Any], finish: list[Any]) -> list[int]:
    """greedy_methods (``print_max_activities``): activities sorted by finish time; take
    each that starts after the last one taken finished."""
    taken = [0]
    i = 0
    for j in range(1, len(finish)):
        if start[j] >= finish[i]:
            taken.append(j)
            i = j
    return taken


# --- traced entry points: n distinct values, a fixed shuffle (the table's input) ---


def shuffled(n: int) -> list[int]:
    """0 .. n-1 in the order of a fixed multiplicative shuffle (n a power of two)."""
    return [(i * 37 + 11) % n for i in range(n)]


def run_bubble(n: int = 32) -> list[Any]:
    return bubble_sort(ss.inputs(shuffled(n)))


def run_insertion(n: int = 32) -> list[Any]:
    return insertion_sort(ss.inputs(shuffled(n)))


def run_cocktail(n: int = 32) -> list[Any]:
    return cocktail_shaker_sort(ss.inputs(shuffled(n)))


def run_odd_even(n: int = 32) -> list[Any]:
    return odd_even_sort(ss.inputs(shuffled(n)))


def run_bitonic(n: int = 32) -> list[Any]:
    return bitonic_sort(ss.inputs(shuffled(n)))


def run_heap_sort(n: int = 32) -> list[Any]:
    return heap_sort(ss.inputs(shuffled(n)))


def run_binary_search(n: int = 32) -> int:
    return binary_search(ss.inputs(range(n)), ss.input(n // 3))


def run_max_subarray(n: int = 32) -> Any:
    return max_subarray_sum(ss.inputs([(i * 37 + 11) % n - n // 2 for i in range(n)]))


def run_lis(n: int = 32) -> int:
    return longest_increasing_subsequence_length(ss.inputs(shuffled(n)))


def run_knapsack(n: int = 32) -> Any:
    weights = [1 + (i * 7) % 5 for i in range(n)]
    return knapsack(8, weights, ss.inputs([(i * 37 + 11) % n + 1 for i in range(n)]))


def run_activity_selection(n: int = 32) -> list[int]:
    start = [i + (i * 37 + 11) % 3 for i in range(n)]
    return activity_selection(ss.inputs(start), ss.inputs([s + 2 for s in start]))
