"""Random container names in Docker's style: adjective_surname (e.g. `eager_turing`)."""
from __future__ import annotations

import os
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import Callable

_LEFT = ("admiring adoring affectionate agitated amazing angry awesome beautiful blissful bold "
         "boring brave busy charming clever compassionate competent condescending confident cool "
         "cranky crazy dazzling determined distracted dreamy eager ecstatic elastic elated elegant "
         "eloquent epic exciting fervent festive flamboyant focused friendly frosty funny gallant "
         "gifted goofy gracious great happy hardcore heuristic hopeful hungry infallible inspiring "
         "intelligent interesting jolly jovial keen kind laughing loving lucid magical modest musing "
         "mystifying naughty nervous nice nifty nostalgic objective optimistic peaceful pedantic "
         "pensive practical priceless quirky quizzical recursing relaxed reverent romantic sad serene "
         "sharp silly sleepy stoic strange stupefied suspicious sweet tender thirsty trusting "
         "unruffled upbeat vibrant vigilant vigorous wizardly wonderful xenodochial youthful zealous "
         "zen").split()
_RIGHT = ("agnesi albattani allen almeida archimedes ardinghelli aryabhata austin babbage banach "
          "bardeen bartik bassi bell benz bhabha bhaskara blackwell bohr booth borg bose bouman boyd "
          "brahmagupta brattain brown buck burnell cannon carson cartwright cerf chandrasekhar "
          "chaplygin chatelet chatterjee cohen colden cori cray curie darwin davinci dewdney dhawan "
          "diffie dijkstra dirac driscoll dubinsky easley edison einstein elbakyan elgamal elion "
          "ellis engelbart euclid euler faraday feistel fermat fermi feynman franklin gagarin "
          "galileo galois gates gauss germain goldberg goldstine goldwasser golick goodall gould "
          "greider grothendieck haibt hamilton haslett hawking heisenberg hellman hermann herschel "
          "hertz heyrovsky hodgkin hofstadter hoover hopper hugle hypatia jackson jang jemison "
          "jennings jepsen johnson joliot jones kalam kapitsa kare keldysh keller kepler khayyam "
          "khorana kilby kirch knuth kowalevski lalande lamarr lamport leakey leavitt lederberg "
          "lehmann lewin lichterman liskov lovelace lumiere mahavira margulis matsumoto maxwell "
          "mayer mccarthy mcclintock mclean mcnulty meitner mendel mendeleev merkle mestorf mirzakhani "
          "montalcini moore morse moser murdock napier nash neumann newton nightingale nobel noether "
          "northcutt noyce panini pare pascal pasteur payne perlman pike poincare poitras proskuriakova "
          "ptolemy raman ramanujan rhodes ride ritchie robinson roentgen rosalind rubin saha sammet "
          "sanderson satoshi shamir shannon shaw shirley shockley shtern sinoussi snyder solomon "
          "spence stonebraker sutherland swanson swartz swirles taussig tesla tharp thompson torvalds "
          "tu turing varahamihira vaughan villani visvesvaraya volhard wescoff wilbur wiles williams "
          "williamson wilson wing wozniak wright wu yalow yonath zhukovsky").split()


def random_name(taken: Callable[[str], bool]) -> str:
    for attempt in range(20):
        name = f"{_pick(_LEFT)}_{_pick(_RIGHT)}"
        if attempt > 5:
            name += str(_below(10))
        if not taken(name):
            return name
    return f"{_pick(_LEFT)}_{_pick(_RIGHT)}{100 + _below(999900)}"


# os.urandom rather than `random`: its import (with hashlib's) costs every `run` ~3 ms
def _below(n: int) -> int:
    return int.from_bytes(os.urandom(8), "little") % n


def _pick(words: list[str]) -> str:
    return words[_below(len(words))]
