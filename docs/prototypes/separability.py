# Separability ceiling on ADFA-LD's published-protocol test set (UVD-0001..2000 + every attack trace): a *supervised*
# classifier, cross-validated, to say what information the traces hold, not what a one-class model can do (it uses
# the attack labels; nothing here is a model for gpo). A prototype for docs/models.md (issue 16). Needs Debian's
# python3-sklearn; run with /usr/bin/python3:
#   node docs/prototypes/gpo-default-scores.mjs $D > $OUT/gpo-default-scores.json   # after the build
#   OUT=/tmp/sep OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nice -n 19 /usr/bin/python3 docs/prototypes/separability.py $D
# Logistic regression (L2, C = 1, sklearn's defaults but max_iter 5000 so lbfgs converges) on per-trace 1..3-gram
# frequencies (for each n, the count of each n-gram over the trace's number of n-grams; the vocabulary from the
# fitted folds only); the same plus gpo's two default score components (published protocol, trained on the 833
# Training traces; scaled as gpo scales them); and the two components alone. Out-of-fold scores of 5-fold
# cross-validation, pooled: folds of traces (stratified, seed 1), and folds of attack runs (every trace of one
# Attack_Data_Master run folder in the same fold, so a run's own quirks cannot be learned from its siblings); and 3
# folds of attack types (the held-out attacks of a type training never saw).
# Diagnostics: C=100 (weaker L2); RF=1, a random forest instead (200 trees, sklearn's defaults otherwise, seed 1):
# whether a less constrained classifier separates more.
import numpy as np, os, sys, glob, re, json
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, StratifiedGroupKFold
D=sys.argv[1] if len(sys.argv)>1 else os.path.join(os.path.dirname(__file__),'../../../shared/datasets/adfa-ld')
OUT=os.environ.get('OUT','/tmp/sep'); N=3; FOLDS=5; C=float(os.environ.get('C',1)); RF=int(os.environ.get('RF',0))
def read(p): return [int(x) for x in open(p).read().split()]
def rel(p): return os.path.relpath(p,D)
val={int(re.search(r'UVD-(\d+)',p).group(1)):rel(p) for p in glob.glob(D+'/Validation_Data_Master/*.txt')}
normal=[val[i] for i in range(1,2001)]; attack=[rel(p) for p in sorted(glob.glob(D+'/Attack_Data_Master/*/*.txt'))]
tests=normal+attack; trace={r:read(os.path.join(D,r)) for r in tests}
y=np.array([0]*len(normal)+[1]*len(attack))
groups=np.array([f'n{i}' for i in range(len(normal))]+[os.path.dirname(r) for r in attack])

from adfa_metrics import line  # this folder

def vocabulary(idx):
    voc={}
    for k in idx:
        t=trace[tests[k]]
        for n in range(1,N+1):
            for i in range(len(t)-n+1): voc.setdefault(tuple(t[i:i+n]),len(voc))
    return voc
def features(idx,voc):
    rows=[];cols=[];vals=[]
    for k,j0 in enumerate(idx):
        t=trace[tests[j0]]
        for n in range(1,N+1):
            tot=len(t)-n+1
            if tot<=0: continue
            c={}
            for i in range(tot):
                j=voc.get(tuple(t[i:i+n]))
                if j is not None: c[j]=c.get(j,0)+1
            for j,v in c.items(): rows.append(k); cols.append(j); vals.append(v/tot)
    return sp.csr_matrix((vals,(rows,cols)),shape=(len(idx),len(voc)))

g=json.load(open(f'{OUT}/gpo-default-scores.json'))['published']; sc=g['scales']
comp=np.array([[(g['scores'][t][0]-sc['surprise']['center'])/sc['surprise']['scale'],
                (g['scores'][t][1]-sc['context']['center'])/sc['context']['scale']] for t in tests])
print('gpo default score (one-class, trained on Training_Data_Master; no CV): '+line([g['scores'][t][2] for t in normal],[g['scores'][t][2] for t in attack]))

def cv(splitter,what):
    oof=np.zeros(len(tests))
    for fit,ho in splitter.split(np.zeros(len(y)),y,groups):
        parts_f=[];parts_h=[]
        if what in ('ngrams','ngrams+gpo'):
            voc=vocabulary(fit); parts_f.append(features(fit,voc)); parts_h.append(features(ho,voc))
        if what in ('gpo','ngrams+gpo'): parts_f.append(sp.csr_matrix(comp[fit])); parts_h.append(sp.csr_matrix(comp[ho]))
        if RF: m=RandomForestClassifier(200,random_state=1).fit(sp.hstack(parts_f).tocsr(),y[fit]); oof[ho]=m.predict_proba(sp.hstack(parts_h).tocsr())[:,1]
        else: m=LogisticRegression(C=C,max_iter=5000).fit(sp.hstack(parts_f).tocsr(),y[fit]); oof[ho]=m.decision_function(sp.hstack(parts_h).tocsr())
    return oof
class ByAttackType:
    """3 folds: one attack type each (Adduser, Hydra_FTP, Hydra_SSH) and a third of the normal traces (seed 1), so
    the held-out attacks are of a type the classifier never saw."""
    def split(self,X,y,groups):
        kind=np.array([re.sub(r'_\d+$','',g) for g in groups]); types=sorted({k for k,l in zip(kind,y) if l})
        nfold=np.empty(len(y),dtype=int); nfold[y==0]=np.random.default_rng(1).permutation((y==0).sum())%len(types)
        for f,t in enumerate(types):
            ho=np.flatnonzero(((y==0)&(nfold==f))|((y==1)&(kind==t))); yield np.setdiff1d(np.arange(len(y)),ho),ho
for name,splitter in (('5 folds of traces (stratified, seed 1)',StratifiedKFold(FOLDS,shuffle=True,random_state=1)),
                      ('5 folds of attack runs (a run folder never split)',StratifiedGroupKFold(FOLDS,shuffle=True,random_state=1)),
                      ('3 folds of attack types (each type held out whole)',ByAttackType())):
    print(f'== cross-validation, {name}',flush=True)
    clf='random forest' if RF else f'logistic regression (C = {C:g})'
    for what,title in (('ngrams',f'{clf}, 1..3-gram frequencies'),('ngrams+gpo','the same + gpo\'s two default components'),
                       ('gpo','gpo\'s two default components alone (supervised weights)')):
        s=cv(splitter,what); sn=s[:len(normal)]; sa=s[len(normal):]
        print(f'{title}: '+line(sn,sa),flush=True)
        print(f'   UVD-0001..1000 vs attacks: '+line(sn[:1000],sa),flush=True)
        print(f'   UVD-1001..2000 vs attacks: '+line(sn[1000:],sa),flush=True)
