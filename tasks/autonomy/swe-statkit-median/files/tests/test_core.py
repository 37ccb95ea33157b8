import unittest

import statkit


class TestCore(unittest.TestCase):
    def test_mean(self):
        self.assertEqual(statkit.mean([1, 2, 3, 4]), 2.5)

    def test_median_sorted_odd(self):
        self.assertEqual(statkit.median([1, 2, 3]), 2)

    def test_mode_tie(self):
        self.assertEqual(statkit.mode([3, 1, 3, 1, 2]), 1)

    def test_variance(self):
        self.assertAlmostEqual(statkit.variance([2, 4, 4, 4, 5, 5, 7, 9], sample=False), 4.0)

    def test_empty(self):
        with self.assertRaises(ValueError):
            statkit.median([])


if __name__ == "__main__":
    unittest.main()
