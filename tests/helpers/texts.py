"""Small news texts for the lexical and names tests: two Bundesbank stories, two about Satoshi
Sumita and the yen, a harvest story, and a Title Case headline (capitalised words that are not
names)."""

CATALOGUE = [
    "Markets rose. Analysts said the Bundesbank would hold rates while trade slowed.",
    "The Bundesbank kept its discount rate. Officials said trade data were weak.",
    "Farmers said the harvest was late. Trade in grain slowed as rain fell.",
    "Shares in Tokyo fell as Satoshi Sumita said the yen was too strong for exporters.",
    "Exporters complained when Satoshi Sumita warned again that the yen was overvalued.",
    "Trade Talks Resume In Geneva\nDelegates said trade talks would resume next week.",
]
