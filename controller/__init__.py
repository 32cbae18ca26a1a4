"""controller: search algorithms over `search_space` decision sequences (RL, evolution, random).
It never sees a torch model, a data set or Ray; it sees decisions and rewards."""
