"""apps.sentiment: many-to-one sentiment classification with the zoo's GRU and LSTM layers.

IMDB reviews (positive/negative and the 1-10 star rating), SST-2 and SST-5 (1-5 stars):
`python -m apps.sentiment {train,evaluate,predict}`; see README.md in this folder.
"""
